from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"
urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/reasons/", views.ReasonListView.as_view(), name="reasons"),
    path("v1/accounts/", views.AccountListView.as_view(), name="accounts"),
    path("v1/accounts/<str:subscriber_code>/", views.AccountDetailView.as_view(), name="account-detail"),
    path("v1/accounts/<str:subscriber_code>/invoices/", views.AccountInvoicesView.as_view(), name="account-invoices"),
    path("v1/accounts/<str:subscriber_code>/invoices/<str:invoice_number>/meters/", views.InvoiceMetersView.as_view(),
         name="invoice-meters"),
    path("v1/claims/", views.ClaimListCreateView.as_view(), name="claims"),
    path("v1/claims/<str:number>/", views.ClaimDetailView.as_view(), name="claim-detail"),
    path("v1/claims/<str:number>/answer/", views.ClaimAnswerView.as_view(), name="claim-answer"),
    path("v1/claims/<str:number>/withdraw/", views.ClaimWithdrawView.as_view(), name="claim-withdraw"),
    path("v1/claims/<str:number>/letter/", views.ClaimLetterView.as_view(), name="claim-letter"),
    re_path(r"^.*$", views.not_found, name="not-found"),
]
