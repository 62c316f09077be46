"""The provider's endpoints under /o/ and a sign-in form a test can post to."""

from __future__ import annotations

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def sign_in(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(after, allowed_hosts={request.get_host()}):
        after = "/"
    if request.method == "POST":
        user = authenticate(
            request, username=request.POST.get("username"), password=request.POST.get("password")
        )
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(after)
        return HttpResponse("wrong user name or password", status=401)
    return HttpResponse(
        '<form method="post"><input name="username"><input name="password" type="password">'
        f'<input type="hidden" name="next" value="{after}"><button>Sign in</button></form>'
    )


urlpatterns = [
    path("login/", sign_in),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
