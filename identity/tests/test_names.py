"""Names from identity providers are checked before they are stored."""

import pytest
from django.urls import reverse

from identity.names import clean_name, name_problem

pytestmark = pytest.mark.django_db


def test_names_with_control_characters_or_markup_from_a_login_are_not_stored(client):
    client.post(reverse("identity:dev_login"), {
        "method": "asan_signature", "fin": "8ABCD12", "first_name": "Rəşad\r\nBcc: x@example.az",
        "last_name": "<b>Əliyev</b>"})
    from identity.models import User

    user = User.objects.get(fin="8ABCD12")
    assert (user.first_name, user.last_name) == ("", "")


@pytest.mark.parametrize("name", ["Gülnar", "Əliyeva-Həsənova", "O’Neil", "Ramil oğlu"])
def test_ordinary_names_pass(name):
    assert name_problem(name) == "" and clean_name(f" {name} ") == name


@pytest.mark.parametrize("name", ["a\r\nb", "<i>x</i>", "x\u200by", "{{ x }}", "a" * 151])
def test_hostile_names_are_dropped(name):
    assert name_problem(name) and clean_name(name) == ""
