"""The root URLconf. Each app's urls.py owns its paths under its own namespace."""

from __future__ import annotations

from django.urls import include, path

from dynchat.views import account, shell

account_urls = [
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("account/password/", account.password_change, name="password-change"),
    path("account/password/done/", account.password_change_done, name="password-change-done"),
]

shell_urls = [
    path("", shell.home, name="home"),
    path("status/worker/", shell.worker_status, name="worker-status"),
    path("background/failed/", shell.failed_tasks, name="failed-tasks"),
    path("background/failed/<int:pk>/retry/", shell.failed_task_retry, name="failed-task-retry"),
    path(
        "background/failed/<int:pk>/discard/", shell.failed_task_discard, name="failed-task-discard"
    ),
]

urlpatterns = [
    path("", include(([*account_urls, *shell_urls], "dynchat"))),
    path("", include("widget.urls")),
    path("", include("widget.manage_urls")),
    path("", include("dialogues.urls")),
    path("", include("calendars.urls")),
    path("", include("meetings.urls")),
    path("", include("routing.urls")),
    path("", include("sync.urls")),
]

handler400 = "dynchat.views.errors.bad_request"
handler403 = "dynchat.views.errors.permission_denied"
handler404 = "dynchat.views.errors.page_not_found"
handler500 = "dynchat.views.errors.server_error"
