"""Resumable uploads over tus 1.0.0 (https://tus.io/protocols/resumable-upload).

`protocol` parses and formats the headers, `storage` keeps the partial files,
`service` holds the use cases (create, append, terminate, expire) and `views`
maps HTTP onto them. Core protocol plus the creation, creation-with-upload,
termination, checksum and expiration extensions.
"""
