from claims.management.commands.workflow_table import document_path, with_table


def test_the_architecture_document_shows_the_declared_workflow():
    text = document_path().read_text(encoding="utf-8")
    assert with_table(text) == text, "run: manage.py workflow_table --write"
