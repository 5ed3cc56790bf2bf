from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.visits, name="visits"),
    path("<int:pk>/", views.visit, name="visit"),
    path("<int:pk>/result/", views.visit_result, name="visit_result"),
    path("<int:pk>/no-access/", views.visit_no_access, name="visit_no_access"),
    path("<int:pk>/photo/", views.visit_photo, name="visit_photo"),
    path("<int:pk>/meter-photo/<int:evidence_id>/", views.visit_photo, name="meter_photo"),
]
