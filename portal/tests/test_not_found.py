"""A 404 is a Callboard page (the top bar, a way back), with the view's own reason when it gave one."""

import pytest


@pytest.mark.django_db
def test_an_unknown_address_is_a_page_with_a_way_back(client, settings, django_user_model):
    settings.DEBUG = False
    client.force_login(django_user_model.objects.create_user("pat", "pat@example.com", "pw-12345-long"))
    page = client.get("/no/such/page/")
    text = page.content.decode()
    assert page.status_code == 404 and "Not found" in text and 'href="/catalog/"' in text
    assert "Resolver404" not in text
    reason = client.get("/create/templates/default/nothing/")
    assert reason.status_code == 404 and "No such template, or you may not read it." in reason.content.decode()
