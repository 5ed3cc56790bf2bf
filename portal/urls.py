from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("claims/", views.claim_list, name="claim_list"),
    path("inbox/", views.inbox, name="inbox"),
    path("my-data/", views.my_data, name="my_data"),
    path("my-data/data.json", views.my_data_json, name="my_data_json"),
    path("my-data/data.pdf", views.my_data_pdf, name="my_data_pdf"),
    path("my-data/consents/<int:record_id>/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
    path("claims/find/", views.claim_find, name="claim_find"),
    path("claims/new/", views.account_step, name="claim_new"),
    path("claims/new/invoice/", views.invoice_step, name="claim_invoice"),
    path("claims/new/details/", views.details_step, name="claim_details"),
    path("claims/new/photo/<str:serial>/", views.draft_photo, name="draft_photo"),
    path("claims/new/review/", views.review_step, name="claim_review"),
    path("claims/<str:number>/", views.claim_detail, name="claim_detail"),
    path("claims/<str:number>/registered/", views.registered, name="claim_registered"),
    path("claims/<str:number>/receipt/", views.receipt, name="claim_receipt"),
    path("claims/<str:number>/photos/<int:evidence_id>/", views.claim_photo, name="claim_photo"),
    path("claims/<str:number>/answer/", views.claim_answer, name="claim_answer"),
    path("claims/<str:number>/withdraw/", views.claim_withdraw_view, name="claim_withdraw"),
    path("claims/<str:number>/letter.pdf", views.claim_letter, name="claim_letter"),
]
