from django.urls import path

from . import views

app_name = "commission"
urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("meetings/open/", views.meeting_open, name="meeting_open"),
    path("meetings/<int:pk>/", views.meeting, name="meeting"),
    path("meetings/<int:pk>/close/", views.meeting_close, name="meeting_close"),
    path("claims/<str:number>/add/", views.agenda_add, name="agenda_add"),
    path("claims/<str:number>/return/", views.commission_return, name="return"),
    path("items/<int:pk>/approve/", views.decision_approve, name="approve"),
    path("items/<int:pk>/refuse/", views.decision_refuse, name="refuse"),
    path("items/<int:pk>/remove/", views.agenda_remove, name="agenda_remove"),
    path("items/<int:pk>/letter.pdf", views.letter, name="letter"),
]
