from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import StaffAssignment, User


class AssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "fin", "is_active", "is_superuser"]
    search_fields = ["username", "first_name", "last_name", "fin"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Citizen", {"fields": ("fin", "patronymic")}))
    inlines = [AssignmentInline]


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "branch"]
    list_filter = ["role", "branch"]
