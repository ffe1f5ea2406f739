"""What a review item asks and how its answer is judged: a missed quiz question comes back as
it was; a SPIN type or a speech act comes back as a fresh practice situation each time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from dialogs.understanding.acts import ruled_acts
from dialogs.understanding.classifier import Classification, classify
from knowledge.loader import Knowledge
from knowledge.schema import Practice, Question, Quiz
from storage.models import ReviewItem
from storage.reviews import ACT, QUIZ, REVIEWED_ACTS, SPIN, due_items


def quiz_question(knowledge: Knowledge, ref: str) -> tuple[Quiz, Question] | None:
    """The quiz and question an item names (None once the content is gone)."""
    quiz_id, _, question_id = ref.partition("/")
    quiz = knowledge.quizzes.get(quiz_id)
    question = next((q for q in quiz.questions if q.id == question_id), None) if quiz else None
    return (quiz, question) if quiz and question else None


def situations(knowledge: Knowledge, stage: str | None) -> list[Practice]:
    """The practice situations of the SPIN lessons (of `stage`, or of every stage), in lesson order."""
    lessons = sorted(
        (lesson for lesson in knowledge.lessons.values() if lesson.topic == "spin" and lesson.practice and stage in (None, lesson.spin_stage)),
        key=lambda lesson: (lesson.order, lesson.id),
    )
    return [practice for lesson in lessons for practice in lesson.practice]


def situation_for(knowledge: Knowledge, item: ReviewItem) -> Practice | None:
    """The situation a skill item is practised on this time: another one at each review, so the
    rep never meets the same wording twice running (None if the lessons have none)."""
    pool = situations(knowledge, item.ref if item.kind == SPIN else None)
    return pool[((item.id or 0) + item.reviews) % len(pool)] if pool else None


def askable(knowledge: Knowledge, item: ReviewItem) -> bool:
    """True if the content the item needs is still there."""
    if item.kind == QUIZ:
        return quiz_question(knowledge, item.ref) is not None
    if item.kind == ACT and item.ref not in REVIEWED_ACTS:
        return False
    return situation_for(knowledge, item) is not None


def due_today(session: Session, knowledge: Knowledge, user_id: int, until: datetime) -> list[ReviewItem]:
    """The rep's items due before `until` that the content can still ask, the longest overdue
    first: what /review works through, and what /me and the daily nudge count, so the number a
    rep is told is the number /review shows."""
    return [item for item in due_items(session, user_id, until) if askable(knowledge, item)]


@dataclass(frozen=True)
class SkillAnswer:
    """A typed answer to a skill item: whether it does what was asked, and how it was read."""

    right: bool
    verdict: Classification
    acts: tuple[str, ...]


def judge_skill(item: ReviewItem, text: str) -> SkillAnswer:
    """A SPIN item wants a question of its type; an act item a question without that act."""
    verdict = classify(text)
    acts = tuple(ruled_acts(text))
    if item.kind == SPIN:
        return SkillAnswer(verdict.is_question and verdict.spin == item.ref, verdict, acts)
    return SkillAnswer(verdict.is_question and item.ref not in acts, verdict, acts)
