"""The render matrix covers every answer a user can give (a ratchet: a new
question or choice fails here until a combination renders it)."""

from itertools import product
from typing import Any

from .rendering import ALL_MODULES, COMBINATIONS, COPIER_YML

CHOICE_QUESTIONS = {
    name: list(spec["choices"].values())
    if isinstance(spec["choices"], dict)
    else list(spec["choices"])
    for name, spec in COPIER_YML.items()
    if not name.startswith("_") and "choices" in spec and not spec.get("multiselect")
}


def answer(combination: dict[str, Any], question: str) -> Any:
    return combination.get(question, COPIER_YML[question].get("default"))


def test_every_choice_is_rendered() -> None:
    missing = [
        (question, value)
        for question, values in CHOICE_QUESTIONS.items()
        for value in values
        if all(answer(c, question) != value for c in COMBINATIONS.values())
    ]
    assert missing == []


def test_every_module_meets_every_broker_and_database_choice() -> None:
    pairs = {
        (module, question, value)
        for module in ALL_MODULES
        for question in ("broker", "database")
        for value in CHOICE_QUESTIONS[question]
    }
    covered = {
        (module, question, answer(combination, question))
        for combination in COMBINATIONS.values()
        for module, question in product(
            answer(combination, "modules"), ("broker", "database")
        )
    }
    assert sorted(pairs - covered) == []


def test_combinations_only_answer_real_questions() -> None:
    """Copier silently ignores unknown --data keys: a typo would test nothing."""
    questions = {name for name in COPIER_YML if not name.startswith("_")}
    unknown = {key for c in COMBINATIONS.values() for key in c} - questions
    assert unknown == set()
