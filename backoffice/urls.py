from django.contrib.auth import views as auth_views
from django.urls import path

from . import otp, views

app_name = "backoffice"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("otp/", otp.otp_verify, name="otp_verify"),
    path("otp/setup/", otp.otp_setup, name="otp_setup"),
    path("logout/", auth_views.LogoutView.as_view(next_page="backoffice:login"), name="logout"),
    path("", views.queue, name="queue"),
    path("claims/<str:number>/", views.claim_page, name="claim"),
    path("claims/<str:number>/photo/<int:evidence_id>/", views.evidence_photo, name="evidence_photo"),
    path("claims/<str:number>/answer-photo/<int:request_id>/", views.answer_photo, name="answer_photo"),
    path("claims/<str:number>/<str:action>/", views.claim_action, name="claim_action"),
]
