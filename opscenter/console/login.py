"""Logging in and out of the console, and choosing one's own password.

The login form carries a token of its own (a random value in a short-lived cookie, echoed by the form), so that
no other site can log a browser in under someone else's name; once logged in, every form carries the session's
CSRF token (``opscenter.pages.person_gate``).
"""

import hmac
import secrets
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.datastructures import Cookie
from litestar.params import QueryParameter

from opscenter.auth import logins, sessions
from opscenter.auth.middleware import CONSOLE_PATH, PersonSession
from opscenter.errors import DomainError
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.pages import BEFORE_PASSWORD_CHANGE, Form, attempt, refusal_text, render, see_other
from opscenter.settings import Settings
from opscenter.timekeeping import SHANGHAI
from opscenter.web import DbSession, get, post

LOGIN_COOKIE = "opscenter_login"
_PUBLIC = {"exclude_from_auth": True}


def _session_cookie(settings: Settings, value: str, *, max_age: int | None) -> Cookie:
    return Cookie(
        key=sessions.COOKIE,
        value=value,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.console_secure_cookies,
        max_age=max_age,
    )


def _safe_next(target: str) -> str:
    """Where to go after logging in: a console path, never another site."""
    if target.startswith(CONSOLE_PATH) and not target.startswith("//") and "\\" not in target:
        return target
    return CONSOLE_PATH


def _login_page(
    request: Request[Any, Any, Any], settings: Settings, *, status: int = 200, **context: Any
) -> Response[str]:
    token = secrets.token_urlsafe(16)
    context.setdefault("name", "")
    context.setdefault("notice", "")
    context.setdefault("problem", "")
    context.setdefault("next", _safe_next(request.query_params.get("next", CONSOLE_PATH)))
    page = render(request, "shell/login.html", status_code=status, login_token=token, **context)
    page.set_cookie(
        key=LOGIN_COOKIE,
        value=token,
        path=f"{CONSOLE_PATH}/login",
        httponly=True,
        samesite="strict",
        secure=settings.console_secure_cookies,
        max_age=3600,
    )
    return page


class LoginController(Controller):
    path = f"{CONSOLE_PATH}"
    include_in_schema = False

    @get("/login", opt=_PUBLIC)
    async def login_page(
        self,
        request: Request[Any, Any, Any],
        # Declared, so the strict query check (opscenter/parameters.py) lets the redirect to login through.
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
        out: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[str]:
        notice = "您已退出登录。" if out else ""
        return _login_page(request, request.app.state.settings, notice=notice)

    @post("/login", opt=_PUBLIC, status_code=200)
    def log_in(self, request: Request[Any, Any, Any], session: DbSession, data: Form) -> Response[Any]:
        settings: Settings = request.app.state.settings
        name, target = data.get("name", ""), _safe_next(data.get("next", CONSOLE_PATH))
        sent, expected = data.get("login_token", ""), request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return _login_page(request, settings, status=403, name=name, problem="登录表单已过期，请重新输入。")
        address = request.client.host if request.client else ""
        login = logins.log_in(
            session,
            name=name,
            password=data.get("password", ""),
            address=address,
            user_agent=request.headers.get("user-agent", ""),
            settings=settings,
            request_id=request.scope.get("state", {}).get("request_id", "-"),
        )
        if login.outcome is logins.Outcome.LOCKED:
            until = login.locked_until.astimezone(SHANGHAI).strftime("%H:%M") if login.locked_until else ""
            problem = f"登录失败次数过多，已暂时锁定，请于 {until} 之后再试。"
            return _login_page(request, settings, status=429, name=name, problem=problem)
        if login.outcome is logins.Outcome.REFUSED or login.token is None:
            return _login_page(request, settings, status=401, name=name, problem="用户名或密码不正确。")
        answer = see_other(f"{CONSOLE_PATH}/password" if login.must_change_password else target)
        answer.set_cookie(_session_cookie(settings, login.token, max_age=None))
        answer.delete_cookie(LOGIN_COOKIE, path=f"{CONSOLE_PATH}/login")
        return answer

    @post("/logout", guards=[allow(*EVERYONE)], opt={BEFORE_PASSWORD_CHANGE: True}, status_code=200)
    def log_out(self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor) -> Response[Any]:
        person = request.scope.get("auth")
        if isinstance(person, PersonSession):
            logins.log_out(session, person.token, actor=actor)
        answer = see_other(f"{CONSOLE_PATH}/login", out="1")
        answer.set_cookie(_session_cookie(request.app.state.settings, "", max_age=0))
        return answer

    @post("/logout-everywhere", guards=[allow(*EVERYONE)], status_code=200)
    def log_out_everywhere(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor
    ) -> Response[Any]:
        logins.log_out_everywhere(session, actor=actor)
        answer = see_other(f"{CONSOLE_PATH}/login", out="1")
        answer.set_cookie(_session_cookie(request.app.state.settings, "", max_age=0))
        return answer

    @get("/password", guards=[allow(*EVERYONE)], opt={BEFORE_PASSWORD_CHANGE: True})
    def password_page(self, request: Request[Any, Any, Any], session: DbSession) -> Response[str]:
        return render(request, "shell/password.html", problem="")

    @post("/password", guards=[allow(*EVERYONE)], opt={BEFORE_PASSWORD_CHANGE: True}, status_code=200)
    def change_password(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, data: Form
    ) -> Response[Any]:
        outcome = attempt(
            session,
            lambda: logins.change_password(
                session, actor=actor, current=data.get("current_password", ""), new=data.get("new_password", "")
            ),
        )
        if isinstance(outcome, DomainError):
            return render(request, "shell/password.html", status_code=outcome.status, problem=refusal_text(outcome))
        return see_other(CONSOLE_PATH)

    @get("/account", guards=[allow(*EVERYONE)])
    def account(self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor) -> Response[str]:
        open_sessions = sessions.list_sessions(session, actor.user_id) if actor.user_id else []
        return render(request, "shell/account.html", open_sessions=open_sessions)
