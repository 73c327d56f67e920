# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo bench eval train-grouping scan-decision bridge-lexicon lint fmt clean db-upgrade

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python bot.py run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python -m demo.replay

bench: $(STAMP)
	$(BIN)/python -m bench

eval: $(STAMP)
	$(BIN)/python -m tests.eval.run

# Refit the same-story model, its IDF table and word associations from the dev split (stories/grouping/data/).
train-grouping: $(STAMP)
	$(BIN)/python -m training.train_grouping

# Choose the model's threshold and story agreement on the bot's own scan of held-out dev files (about a quarter
# of an hour; run after train-grouping, whose refit keeps the choice only while its trees are unchanged).
scan-decision: $(STAMP)
	PYTHONUNBUFFERED=1 $(BIN)/python -m training.scan_decision

# Rebuild the EN-ES bridge lexicon with Apertium (Debian's apertium-eng-spa; wordfreq in a throwaway venv).
# The bot never needs Apertium: the lexicon it makes is committed.
bridge-lexicon:
	command -v apertium >/dev/null || (apt-get install -y -q apertium-eng-spa || sudo apt-get install -y -q apertium-eng-spa)
	test -x $(VENV)-lexicon/bin/python || ($(PYTHON) -m venv $(VENV)-lexicon && $(VENV)-lexicon/bin/pip install --quiet wordfreq==3.1.1)
	$(VENV)-lexicon/bin/python -m training.build_bridge_lexicon

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

db-upgrade: $(STAMP)
	$(BIN)/python bot.py db upgrade

clean:
	rm -rf $(VENV) $(VENV)-lexicon *.egg-info .pytest_cache .ruff_cache
