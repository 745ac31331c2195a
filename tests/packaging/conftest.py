# example_app/ is a separate project with its own tests, run by test_install.py in its own venv.
collect_ignore = ["example_app"]
