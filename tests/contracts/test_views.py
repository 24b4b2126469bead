"""Contract pages: a client sees its own contracts' guarantees, nobody else's."""

def test_client_sees_its_contract_guarantees(world, login_as):
    page = login_as(world.client).get(f"/contracts/{world.contract}").get_data(as_text=True)
    assert "P1 — Critique" in page and "24/7" in page


def test_client_cannot_open_another_organisations_contract(world, login_as):
    response = login_as(world.client).get(f"/contracts/{world.other_contract}")
    assert response.status_code == 404
