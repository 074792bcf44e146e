PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# A local key, made once and never committed.
SECRET_KEY ?= $(shell test -s .secret_key || python3 -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key; cat .secret_key)
export SECRET_KEY

.PHONY: run test lint format venv bench screenshots clean

$(PY): requirements.txt requirements-dev.txt
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(PY)

venv: $(PY)

run: $(PY)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py seed_measures seeds/
	$(PY) manage.py load_demo
	@echo ""
	@echo "督办台账: http://$(HOST):$(PORT)/  — 演示账号见 README.md（如 督查员 ducha，密码均为 demo2026）"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(PY)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: $(PY)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Refresh the README's screenshots (an ordinary test run writes them to a temp dir): the office
# screen at 1366×768, a phone at 390 px (phone-*.png) and the sign-off page.
screenshots: $(PY)
	SAVE_SCREENSHOTS=1 TESTING=1 $(PY) -m pytest -q tests/test_browser.py tests/test_browser_layout.py -k "readme_screenshots or sign_off"

bench: $(PY)
	TESTING=1 $(PY) bench/import_bench.py
	TESTING=1 $(PY) bench/web_bench.py

clean:
	rm -rf .venv db.sqlite3* staticfiles .pytest_cache
