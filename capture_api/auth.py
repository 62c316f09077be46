"""Signing in, enrolling a device, and the caller's tokens: thin views over hub.accounts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from capture_api.auditing import audit_request
from capture_api.errors import ApiProblem, ErrorEnvelope
from capture_api.permissions import IsPerson
from hub.accounts.devices import EnrollmentRefused, device_enroll
from hub.accounts.models import HubToken
from hub.accounts.sign_in import SignInLocked, SignInRefused, user_sign_in
from hub.accounts.tokens import token_revoke, tokens_visible
from hub.audit.models import Outcome


class SignInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    device_name = serializers.CharField(
        max_length=120, required=False, default="", help_text="the phone or app, for token lists"
    )


class EnrollSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="the one-time code the hub showed")


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="send as `Authorization: Token ...`; shown once")
    token_key = serializers.CharField(help_text="names the token in lists and revocation")
    expiry = serializers.DateTimeField()


class TokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    current = serializers.SerializerMethodField()

    class Meta:
        model = HubToken
        fields = ["token_key", "kind", "name", "user", "created", "expiry", "current"]

    def get_current(self, token: HubToken) -> bool:
        return token.digest == getattr(self.context["request"].auth, "digest", None)


def _sign_in_failed(request: Request, username: str, why: str) -> None:
    # The user name tried is no PHI; it is what an investigation of a lockout looks for.
    audit_request(request, "sign-in", outcome=Outcome.REFUSED, note=f"as {username!r}: {why}")


def _issued(token: HubToken, key: str) -> Response:
    body = {"token": key, "token_key": token.token_key, "expiry": token.expiry}
    return Response(IssuedTokenSerializer(body).data)


class TokenObtain(ErrorEnvelope, APIView):
    """A new token for this phone or app, for a person's user name and password."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sign-in"
    error_statuses = {"POST": (400, 415, 429)}

    @extend_schema(request=SignInSerializer, responses={200: IssuedTokenSerializer})
    def post(self, request: Request) -> Response:
        form = SignInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            token, key = user_sign_in(
                request=request._request,
                username=form.validated_data["username"],
                password=form.validated_data["password"],
                name=form.validated_data["device_name"],
            )
        except SignInLocked as locked:
            _sign_in_failed(request, form.validated_data["username"], "locked out")
            raise ApiProblem(
                "too many failed sign-ins for this user; wait before trying again",
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                code="sign_in_locked",
                field="username",
                retry_after=locked.retry_after,
            ) from None
        except SignInRefused as refused:
            _sign_in_failed(request, form.validated_data["username"], "wrong credentials")
            raise ApiProblem(
                str(refused), status=status.HTTP_400_BAD_REQUEST, code="credentials_invalid"
            ) from None
        audit_request(
            request, "sign-in", actor=token.user, entity=f"token:{token.token_key}", note=token.name
        )
        return _issued(token, key)


class DeviceEnroll(ErrorEnvelope, APIView):
    """An enrolled device's own token, for its one-time enrollment code."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "enroll"
    error_statuses = {"POST": (400, 415, 429)}

    @extend_schema(request=EnrollSerializer, responses={200: IssuedTokenSerializer})
    def post(self, request: Request) -> Response:
        form = EnrollSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            token, key = device_enroll(code=form.validated_data["code"])
        except EnrollmentRefused as refused:
            audit_request(request, "device.enroll", outcome=Outcome.REFUSED, note=str(refused))
            raise ApiProblem(
                str(refused), status=400, code="enrollment_code_invalid", field="code"
            ) from None
        audit_request(request, "device.enroll", actor=token.user, entity=f"token:{token.token_key}")
        return _issued(token, key)


class TokenList(ErrorEnvelope, APIView):
    """The caller's unexpired tokens, one per device or sign-in (an admin's: everyone's)."""

    permission_classes = [IsPerson]
    error_statuses = {"GET": (401, 403)}

    @extend_schema(responses={200: TokenSerializer(many=True)})
    def get(self, request: Request) -> Response:
        tokens = tokens_visible(actor=request.user)
        return Response(TokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenRevoke(ErrorEnvelope, APIView):
    permission_classes = [IsPerson]
    error_statuses = {"DELETE": (401, 403, 404)}

    @extend_schema(responses={204: OpenApiResponse(description="revoked")})
    def delete(self, request: Request, token_key: str) -> Response:
        """Revokes one token: that device or sign-in gets 401 from now on, the others go on."""
        revoked = token_revoke(actor=request.user, token_key=token_key)
        if not revoked:
            raise ApiProblem("no such token of yours", status=404, code="not_found")
        for token in revoked:
            audit_request(
                request,
                "token.revoke",
                entity=f"token:{token.token_key}",
                note=f"of {token.user.get_username()} ({token.name or token.kind})",
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
