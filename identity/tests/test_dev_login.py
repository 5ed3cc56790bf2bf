import pytest
from django.urls import reverse

from identity.models import User


@pytest.mark.django_db
def test_dev_login_is_refused_when_switched_off(client, settings):
    """With no SSO configured and the development page off, the citizen is told that login is
    not connected yet (not a bare “Not Found”), and nobody is logged in."""
    settings.DEV_LOGIN_ENABLED = False
    page = client.get(reverse("identity:login"))
    assert page.status_code == 503 and "Giriş hazırda mümkün deyil" in page.content.decode()
    r = client.post(reverse("identity:login"), {"method": "id_number", "fin": "5ABCD12"})
    assert r.status_code == 503
    assert not User.objects.filter(fin="5ABCD12").exists()


@pytest.mark.django_db
def test_dev_login_offers_the_five_methods_of_the_manual(client):
    body = client.get(reverse("identity:login")).content.decode()
    for label in ["İdentifikasiya nömrəsi ilə", "SİMA imza ilə", "Asan imza ilə", "SİMA Token(Elektron imza) ilə",
                  "BSXM Elektron İmza ilə"]:  # the manual's words (Şəkil 3)
        assert label in body


@pytest.mark.django_db
def test_typed_fin_logs_in_and_keeps_the_method(client):
    r = client.post(reverse("identity:login"), {"method": "sima_token", "fin": "5abcd12", "first_name": "Rəşad",
                                                "last_name": "Əliyev"})
    assert r.status_code == 302
    user = User.objects.get(fin="5ABCD12")
    assert not user.has_usable_password()
    assert client.session["login_method"] == "sima_token"
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
@pytest.mark.parametrize("fin", ["12345", "5ABCDI2", "5ABCDO2", "5ABC-12"])
def test_malformed_fin_is_refused(client, fin):
    r = client.post(reverse("identity:login"), {"method": "id_number", "fin": fin})
    assert r.status_code == 200
    assert "FİN 7 simvoldan ibarətdir" in r.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_demo_citizen_can_be_picked(client, citizen):
    r = client.post(reverse("identity:login"), {"method": "asan_signature", "demo_fin": citizen.fin})
    assert r.status_code == 302 and int(client.session["_auth_user_id"]) == citizen.pk


@pytest.mark.django_db
def test_logout_ends_the_session(client, citizen):
    client.post(reverse("identity:login"), {"method": "asan_signature", "demo_fin": citizen.fin})
    client.post(reverse("identity:logout"))
    assert "_auth_user_id" not in client.session
