"""The render matrix covers every answer a user can give (a ratchet: a new
question or choice fails here until a combination renders it)."""

from itertools import combinations
from typing import Any

from .rendering import ALL_MODULES, BASE_ANSWERS, COMBINATIONS, COPIER_YML
from .test_update_from_history import NON_DEFAULT

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


Answer = tuple[str, Any]


def answers(combination: dict[str, Any]) -> set[Answer]:
    """The combination as (question, value) pairs, one per chosen module."""
    chosen = {
        (question, answer(combination, question)) for question in CHOICE_QUESTIONS
    }
    return chosen | {("modules", module) for module in answer(combination, "modules")}


def test_every_pair_of_answers_is_rendered_together() -> None:
    """Pairwise: each module with each choice, and the choices with each other."""
    every = {
        (question, value)
        for question, values in CHOICE_QUESTIONS.items()
        for value in values
    } | {("modules", module) for module in ALL_MODULES}
    # Two values of one single-choice question never meet.
    possible = {
        tuple(sorted(pair))
        for pair in combinations(sorted(every), 2)
        if pair[0][0] != pair[1][0] or pair[0][0] == "modules"
    }
    rendered = {
        tuple(sorted(pair))
        for combination in COMBINATIONS.values()
        for pair in combinations(sorted(answers(combination)), 2)
    }
    assert sorted(possible - rendered) == []


def test_combinations_only_answer_real_questions() -> None:
    """Copier silently ignores unknown --data keys: a typo would test nothing."""
    questions = {name for name in COPIER_YML if not name.startswith("_")}
    answer_sets = [*COMBINATIONS.values(), BASE_ANSWERS, NON_DEFAULT]
    unknown = {key for answers in answer_sets for key in answers} - questions
    assert unknown == set()


def test_the_update_from_history_moves_every_choice_off_its_default() -> None:
    """A new question or choice joins the non-default service that is updated
    from the previous version (where a changed meaning would show)."""
    assert NON_DEFAULT["modules"] == ALL_MODULES
    at_default = [
        question
        for question in CHOICE_QUESTIONS
        if answer(NON_DEFAULT, question) == COPIER_YML[question].get("default")
    ]
    assert at_default == []
