"""The operators' reconciliation page for one capture, inside the Django admin.

Shows what the client sent (kept since receipt, whatever was corrected
since), what the EMR holds, the candidates the match step found, the history
of the capture's identity and its whole life as a timeline, with a thumbnail
of the original; the forms call the services in
`hub.matching.reconcile` and `hub.pipeline.operators`, which audit every action.
"""

from __future__ import annotations

import json
from io import BytesIO

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.audit.services import audit_record
from hub.captures.models import Capture, CaptureStatus
from hub.captures.storage import data_path
from hub.matching.reconcile import CORRECTABLE, ReconcileRefused, capture_reject
from hub.pipeline.operators import (
    capture_choose_and_match,
    capture_correct,
    capture_reassign_and_match,
)
from hub.workbench.picker import PickForm, picked_context, picker_look_up
from hub.workbench.timeline import (
    IDENTITY_FIELDS,
    capture_timeline,
    client_sent,
    identity_history,
)

THUMBNAIL_PIXELS = 480


class ContextForm(forms.Form):
    context = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "cols": 80}))
    note = forms.CharField(required=False, max_length=500)

    def clean_context(self) -> object:
        try:
            return json.loads(self.cleaned_data["context"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"not valid JSON: {error}") from None


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500)


def thumbnail(request: HttpRequest, capture_id: str) -> HttpResponse:
    capture = get_object_or_404(Capture, id=capture_id)
    try:
        with Image.open(data_path(capture.original_path)) as image:
            # Pillow only warns between its limit and twice it: refuse before decoding.
            if Image.MAX_IMAGE_PIXELS and image.width * image.height > Image.MAX_IMAGE_PIXELS:
                return HttpResponse(status=404)
            image = ImageOps.exif_transpose(image)
            image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            out = BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return HttpResponse(status=404)
    _audit(request, "capture.media.read", capture, note="thumbnail")
    response = HttpResponse(out.getvalue(), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


def reconcile(request: HttpRequest, capture_id: str) -> HttpResponse:
    capture = get_object_or_404(Capture, id=capture_id)
    if request.method == "GET":
        _audit(request, "capture.read", capture, note="reconciliation page")
    context_form = ContextForm(initial={"context": json.dumps(capture.context, indent=2)})
    reject_form = RejectForm()
    if request.method == "POST" and not request.user.has_perm("captures.change_capture"):
        messages.error(request, "your role may look at captures but not change them")
    elif request.method == "POST":
        action = request.POST.get("action")
        try:
            if action in ("reassign", "correct"):
                context_form = ContextForm(request.POST)
                if context_form.is_valid():
                    service = (
                        capture_reassign_and_match if action == "reassign" else capture_correct
                    )
                    service(
                        capture_id=capture.id,
                        actor=request.user,
                        context_data=context_form.cleaned_data["context"],
                        note=context_form.cleaned_data["note"],
                    )
                    return _done(request, capture, f"{action}: the capture is matched again")
            elif action == "pick":
                pick_form = PickForm(request.POST)
                if not pick_form.is_valid():
                    raise ReconcileRefused(_form_errors(pick_form))
                done = _pick(request, capture, pick_form.cleaned_data)
                return _done(request, capture, done)
            elif action == "choose":
                capture_choose_and_match(
                    capture_id=capture.id,
                    actor=request.user,
                    candidate_id=request.POST.get("candidate", ""),
                )
                return _done(request, capture, "candidate chosen; the capture is matched again")
            elif action == "reject":
                reject_form = RejectForm(request.POST)
                if reject_form.is_valid():
                    capture_reject(
                        capture_id=capture.id,
                        actor=request.user,
                        reason=reject_form.cleaned_data["reason"],
                    )
                    return _done(request, capture, "rejected")
        except ReconcileRefused as refused:
            messages.error(request, refused.reason)
    events = list(capture.audit_events.select_related("actor").all())
    return TemplateResponse(
        request,
        "admin/captures/reconcile.html",
        {
            **admin.site.each_context(request),
            "title": f"Reconcile capture {capture.id}",
            "capture": capture,
            "report": capture.match_report or {},
            "candidates": [
                {
                    "kind": c["kind"],
                    "id": c["id"],
                    "number": c.get("accession_number") or c.get("identifier") or "",
                    "description": c.get("description") or c.get("class") or "",
                    "date": c.get("authored_on") or c.get("start") or "",
                }
                for c in (capture.match_report or {}).get("candidates", [])
            ],
            "client": json.dumps(client_sent(capture, events), indent=2),
            "identity_fields": IDENTITY_FIELDS,
            "identity_history": identity_history(capture, events),
            "timeline": capture_timeline(capture, events),
            "context_form": context_form,
            "picker": _picker(request, capture),
            "current_patient": capture.context.get("patient") or {},
            "reject_form": reject_form,
            "unmatched": capture.status == CaptureStatus.UNMATCHED,
            "correctable": capture.status in (CaptureStatus.ARCHIVED, CaptureStatus.FAILED),
        },
    )


def _picker(request: HttpRequest, capture: Capture) -> object:
    """What the EMR holds for the MRN the operator searched for, if any."""
    mrn = request.GET.get("mrn", "").strip()
    movable = capture.status in (CaptureStatus.UNMATCHED, *CORRECTABLE)
    return picker_look_up(mrn) if mrn and movable else None


def _pick(request: HttpRequest, capture: Capture, data: dict[str, object]) -> str:
    """Files the capture under the picked patient: matched again, or corrected if delivered."""
    choices = picker_look_up(str(data["mrn"]))
    if choices.patient is None:
        raise ReconcileRefused(choices.problem)
    try:
        context = picked_context(capture.context, choices, str(data["choice"]))
    except ValueError as error:
        raise ReconcileRefused(str(error)) from None
    service = (
        capture_reassign_and_match if capture.status == CaptureStatus.UNMATCHED else capture_correct
    )
    service(
        capture_id=capture.id, actor=request.user, context_data=context, note=str(data["reason"])
    )
    return f"filed under {choices.patient.name} ({choices.mrn}); the capture is matched again"


def _form_errors(form: forms.Form) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _done(request: HttpRequest, capture: Capture, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(reverse("admin:captures_capture_changelist"))


def _audit(request: HttpRequest, action: str, capture: Capture, *, note: str) -> None:
    audit_record(
        action=action,
        capture_id=capture.id,
        actor=request.user,
        entity=request.path,
        address=request.META.get("REMOTE_ADDR"),
        note=note,
    )
