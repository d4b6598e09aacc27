from __future__ import annotations

from django.urls import path

from sync.views import leads, marketo

app_name = "sync"

marketo_urls = [
    path("marketo/", marketo.overview, name="overview"),
    path("marketo/start/", marketo.start, name="start"),
    path("marketo/runs/<int:pk>/progress/", marketo.run_progress, name="progress"),
    path("marketo/runs/<int:pk>/retry/", marketo.retry, name="retry"),
    path("marketo/attributes/add/", marketo.attributes_add, name="attributes-add"),
    path("marketo/attributes/<int:pk>/remove/", marketo.attribute_remove, name="attribute-remove"),
]

lead_urls = [
    path("marketo/leads/", leads.lead_list, name="leads"),
    path("marketo/leads/<int:pk>/", leads.lead_detail, name="lead-detail"),
]

urlpatterns = [*marketo_urls, *lead_urls]
