import ${{ values.packageName }} as lib


def test_version():
    assert lib.__version__ == "0.1.0"


def test_slugify_stop_name():
    assert lib.slugify_stop_name("Harbour Square (Platform B)") == "harbour-square-platform-b"
