"""Questionnaire pages: list, start, one page per recommendation, review, submit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from ..access import (
    ASSESSMENT_ROLES,
    allow,
    form_checks_text,
    get_assessment,
    reads_first,
    scope_assessments,
    scope_units,
)
from ..content import Recommendation
from ..content.current import current as current_content
from ..db import db
from ..display import locale_code
from ..errors import fail
from ..models import Answer, Assessment, Role, Status, Unit
from ..reports import services as report_services
from ..supervisor import agency_report
from . import recovery, services
from .forms import NewAssessmentForm, ReopenForm, SignOffForm, SubmitForm, field_names, section_form_class
from .section_page import content_of, recommendation, section_context

bp = Blueprint("assessments", __name__, url_prefix="/assessments")
recovery.init_blueprint(bp)  # typed answers survive an expired token or session, or the database being away


@bp.route("/")
@allow(*ASSESSMENT_ROLES)
def index() -> str:
    return render_template("assessments/index.html", form=_new_form(), **_listing())


def _listing() -> dict[str, Any]:
    """The assessments this user may see, with answer counts: shown on the list and again on a form error."""
    stmt = scope_assessments(current_user).order_by(Assessment.updated_at.desc())
    assessments = db.session.scalars(stmt).all()
    counts = dict(
        db.session.execute(
            select(Answer.assessment_id, func.count())
            .where(Answer.assessment_id.in_([a.id for a in assessments]), Answer.value.is_not(None))
            .group_by(Answer.assessment_id)
        ).all()
    )
    totals = {a.id: len(content_of(a).questions) for a in assessments}
    return dict(assessments=assessments, counts=counts, totals=totals)


def _new_form() -> NewAssessmentForm:
    form = NewAssessmentForm()
    form.unit.choices = [SelectChoice(str(u.id), u.name) for u in db.session.scalars(scope_units(current_user))]
    if current_user.unit_id and request.method == "GET":
        form.unit.data = current_user.unit_id
    return form


@bp.route("/new", methods=["POST"])
@allow(*ASSESSMENT_ROLES)
def create() -> Response | tuple[str, int]:
    form = _new_form()
    if not form.validate_on_submit():
        return render_template("assessments/index.html", form=form, **_listing()), 422
    unit = db.session.scalars(scope_units(current_user).where(Unit.id == form.unit.data)).first()
    if unit is None:
        abort(404)
    a = services.create_assessment(db.session, unit, form.title.data, current_user, current_content())
    db.session.commit()
    flash(_("Assessment started. Answer each recommendation; your answers are saved every time you press Save."),
          "success")
    return redirect(url_for("assessments.section", assessment_id=a.id, number=1))


@bp.route("/<int:assessment_id>")
@allow(*ASSESSMENT_ROLES)
def overview(assessment_id: int) -> str:
    a = get_assessment(assessment_id)
    content = content_of(a)
    values = services.answer_values(services.stored_answers(db.session, a))
    return render_template("assessments/overview.html", a=a, content=content,
                           progress=services.progress(content, values), signoff_form=SignOffForm(),
                           reopen_form=ReopenForm(),
                           resume=services.resume_section(db.session, current_user.id, a, content, values))


def _fill_from_db(form: Any, rec: Recommendation, answers: Mapping[str, Any], target: int) -> None:
    for q in rec.questions:
        ans = answers.get(q.id)
        form[f"q_{q.id}"].data = ans.value if ans else None
        form[f"c_{q.id}"].data = ans.comment if ans else ""
        form[f"e_{q.id}"].data = ans.evidence if ans else ""
        form[f"rev_{q.id}"].data = ans.rev if ans else 0
    form.target.data = target
    form.target_orig.data = target


def _refresh_revs(form: Any, rec: Recommendation, answers: dict[str, Answer], target: int) -> None:
    """After a conflict the page keeps the user's input but carries the latest revisions, so Save overwrites."""
    for q in rec.questions:
        ans = answers.get(q.id)
        form[f"rev_{q.id}"].data = ans.rev if ans else 0
        form[f"rev_{q.id}"].raw_data = None
    form.target_orig.data = target
    form.target_orig.raw_data = None


@bp.route("/<int:assessment_id>/section/<int:number>", methods=["GET", "POST"])
@allow(*ASSESSMENT_ROLES)
@form_checks_text
@reads_first  # read and validate outside SQLite's write lock: start_writing below
def section(assessment_id: int, number: int) -> Any:
    a = get_assessment(assessment_id)
    content = content_of(a)
    rec = recommendation(content, number)
    form = section_form_class(rec)()
    if request.method == "GET":
        # Reads only: a page view takes no write lock and leaves the assessment's version alone, so it cannot
        # fail while colleagues save. Where each person continues is recorded with their own saves.
        answers = services.stored_answers(db.session, a)
        _fill_from_db(form, rec, answers, services.targets_of(a).get(rec.id, services.DEFAULT_TARGET))
        return render_template("assessments/section.html", form=form, **section_context(a, content, rec, answers))
    if not a.is_editable:
        fail(409, _("This assessment has been submitted and is read-only. Nothing was changed."))
    unknown = sorted(k for k in request.form if k not in field_names(rec))
    if unknown:
        fail(400, _("The form contained fields this section does not have: %(names)s. Nothing was saved.",
                    names=", ".join(unknown[:5])))
    if not form.validate_on_submit():
        return render_template("assessments/section.html", form=form, invalid=True,
                               **section_context(a, content, rec)), 422
    action = request.form.get("action", "save")
    goto = _goto(request.form.get("goto"), len(content.recommendations))
    db.start_writing(keep_loaded=True)  # the write lock (SQLite) or the row lock, for the save alone: re-read
    a = get_assessment(assessment_id, for_update=True)
    if not a.is_editable:
        fail(409, _("This assessment has been submitted and is read-only. Nothing was changed."))
    try:
        changed = _save(a, rec, form, goto if isinstance(goto, int) else
                        _section_after(action, number, len(content.recommendations)))
    except services.ConflictError as exc:
        db.mark_write_intent(False)  # the conflict page only reads
        a = get_assessment(assessment_id)
        answers = services.answers_by_question(db.session, a)
        _refresh_revs(form, rec, answers, services.targets_of(a).get(rec.id, services.DEFAULT_TARGET))
        return render_template("assessments/section.html", form=form, conflict=exc,
                               **section_context(a, content, rec, answers)), 409
    except StaleDataError:
        fail(409, _("Someone saved this assessment at the same moment. Go back, reload the page and save "
                    "again; your input is still in your browser's back page."))
    flash(_("Saved %(n)d change(s) to recommendation %(num)d.", n=changed, num=rec.number) if changed
          else _("No changes to save in recommendation %(num)d.", num=rec.number), "success")
    if goto == "review":
        return redirect(url_for("assessments.review", assessment_id=a.id))
    if isinstance(goto, int):
        return redirect(url_for("assessments.section", assessment_id=a.id, number=goto))
    if action == "next" and number < len(content.recommendations):
        return redirect(url_for("assessments.section", assessment_id=a.id, number=number + 1))
    if action == "prev" and number > 1:
        return redirect(url_for("assessments.section", assessment_id=a.id, number=number - 1))
    if action == "review" or (action == "next" and number == len(content.recommendations)):
        return redirect(url_for("assessments.review", assessment_id=a.id))
    return redirect(url_for("assessments.section", assessment_id=a.id, number=number))


def _goto(raw: str | None, total: int) -> int | str | None:
    """Where a section-bar button leads after saving (the bar's links are Save buttons, so nothing is dropped)."""
    if raw == "review":
        return "review"
    if raw is not None and raw.isdigit() and 1 <= int(raw) <= total:
        return int(raw)
    return None


def _save(a: Assessment, rec: Recommendation, form: Any, resume_at: int) -> int:
    """Store a validated section form and where this person continues, in one transaction.

    Shared by Save and autosave so both follow the same optimistic-locking rules; rolls back and re-raises
    ConflictError / StaleDataError.
    """
    data = services.SectionInput(
        values={q.id: form[f"q_{q.id}"].data or None for q in rec.questions},
        comments={q.id: form[f"c_{q.id}"].data or "" for q in rec.questions},
        evidence={q.id: form[f"e_{q.id}"].data or "" for q in rec.questions},
        revs={q.id: form[f"rev_{q.id}"].data for q in rec.questions},
        target=form.target.data, target_orig=form.target_orig.data,
    )
    try:
        changed = services.save_section(db.session, a, rec, data, current_user)
        services.record_resume_point(db.session, current_user.id, a.id, resume_at)
        db.session.commit()
    except (services.ConflictError, StaleDataError):
        db.session.rollback()
        raise
    return changed


@bp.route("/<int:assessment_id>/section/<int:number>/autosave", methods=["POST"])
@allow(*ASSESSMENT_ROLES)
@form_checks_text
@reads_first  # read and validate outside SQLite's write lock, as Save does
def autosave(assessment_id: int, number: int) -> tuple[Response, int]:
    """Save a section as it is typed (autosave.js): the same form, rules and conflicts as Save, answered in JSON.

    The page sends its revision fields; the answer carries the new ones, so the next autosave or Save
    continues from what was stored. A conflict stores nothing and says which questions someone else changed.
    """
    readonly = (jsonify(status="readonly", message=_("This assessment has been submitted and is read-only. "
                                                     "Nothing was changed.")), 409)
    a = get_assessment(assessment_id)
    content = content_of(a)
    rec = recommendation(content, number)
    if not a.is_editable:
        return readonly
    unknown = sorted(k for k in request.form if k not in field_names(rec))
    form = section_form_class(rec)()
    if unknown or not form.validate_on_submit():
        return jsonify(status="invalid", message=_("Not saved: please correct the marked fields and press Save."),
                       errors={k: [str(m) for m in v] for k, v in form.errors.items()}), 422
    db.start_writing(keep_loaded=True)  # the write lock (SQLite) or the row lock, for the save alone
    a = get_assessment(assessment_id, for_update=True)
    if not a.is_editable:
        return readonly
    try:
        changed = _save(a, rec, form, number)
    except services.ConflictError as exc:
        numbers = {q.id: f"{rec.number}.{i}" for i, q in enumerate(rec.questions, 1)}
        return jsonify(
            status="conflict",
            message=_("Not saved: someone else changed these answers. Press Save to see both versions."),
            conflicts=[{"question": numbers[c.question_id], "by": c.by} for c in exc.conflicts],
            target_conflict=exc.target_conflict), 409
    except StaleDataError:
        return jsonify(status="conflict", message=_("Not saved: someone saved at the same moment. Trying again."),
                       conflicts=[], target_conflict=None), 409
    db.mark_write_intent(False)  # the new revisions are read back without the write lock
    a = get_assessment(assessment_id)
    answers = services.stored_answers(db.session, a, [q.id for q in rec.questions])
    return jsonify(status="saved", changed=changed,
                   revs={f"rev_{q.id}": answers[q.id].rev if q.id in answers else 0 for q in rec.questions},
                   target_orig=services.targets_of(a).get(rec.id, services.DEFAULT_TARGET)), 200


def _section_after(action: str, number: int, total: int) -> int:
    """The section a save leads to (Save and next / previous), which is where this person continues later."""
    if action == "next" and number < total:
        return number + 1
    if action == "prev" and number > 1:
        return number - 1
    return number


@bp.route("/<int:assessment_id>/continue")
@allow(*ASSESSMENT_ROLES)
def resume(assessment_id: int) -> Response:
    """"Continue": the section of the current user's own last save, else the first one with open questions."""
    a = get_assessment(assessment_id)
    content = content_of(a)
    values = services.answer_values(services.stored_answers(db.session, a))
    number = services.resume_section(db.session, current_user.id, a, content, values)
    return redirect(url_for("assessments.section", assessment_id=a.id, number=number))


@bp.route("/<int:assessment_id>/review")
@allow(*ASSESSMENT_ROLES)
def review(assessment_id: int) -> str:
    a = get_assessment(assessment_id)
    content = content_of(a)
    values = services.answer_values(services.stored_answers(db.session, a))
    return render_template("assessments/review.html", a=a, content=content, form=SubmitForm(),
                           missing=services.missing_questions(content, values),
                           progress=services.progress(content, values))


@bp.route("/<int:assessment_id>/submit", methods=["POST"])
@allow(*ASSESSMENT_ROLES)
def submit(assessment_id: int) -> Response | tuple[str, int]:
    a = get_assessment(assessment_id, for_update=True)
    content = content_of(a)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        newly = services.submit(db.session, a, current_user, content)
        db.session.commit()
    except services.IncompleteError as exc:
        db.session.rollback()
        values = services.answer_values(services.stored_answers(db.session, a))
        flash(_("The assessment cannot be submitted yet: %(n)d question(s) are unanswered.",
                n=sum(len(qs) for _r, qs in exc.missing)), "error")
        return render_template("assessments/review.html", a=a, content=content, form=form, missing=exc.missing,
                               progress=services.progress(content, values)), 422
    if newly:
        _prepare_reports(a)
        flash(_("Assessment submitted. It is now read-only; here are its results."), "success")
    else:
        flash(_("This assessment was already submitted; nothing changed."), "info")
    return redirect(url_for("reports.results", assessment_id=a.id))


def _prepare_reports(a: Assessment) -> None:
    """After the commit: render what the change made stale, off the request (issue 15, 16). The gap report of a
    submitted assessment in this reader's language and the default one; the agency report where it was asked for."""
    if a.status == Status.SUBMITTED.value:
        report_services.schedule_pdfs(a.id, [locale_code(), current_app.config["DEFAULT_LANGUAGE"]])
    agency_report.schedule_refresh(a.unit.agency_id)


def _supervisor_action(assessment_id: int, form_class: type, action: Any, done: str) -> Any:
    a = get_assessment(assessment_id, for_update=True)
    form = form_class()
    if not form.validate_on_submit():
        content = content_of(a)
        values = services.answer_values(services.stored_answers(db.session, a))
        forms = {"signoff_form": SignOffForm(), "reopen_form": ReopenForm()}
        forms["signoff_form" if form_class is SignOffForm else "reopen_form"] = form
        return render_template("assessments/overview.html", a=a, content=content,
                               progress=services.progress(content, values),
                               resume=services.resume_section(db.session, current_user.id, a, content, values),
                               **forms), 422
    try:
        action(a, form)
        db.session.commit()
    except services.StateError as exc:
        db.session.rollback()
        fail(409, _("This cannot be done now: %(why)s.", why=str(exc)))
    _prepare_reports(a)
    flash(done, "success")
    return redirect(url_for("assessments.overview", assessment_id=a.id))


@bp.route("/<int:assessment_id>/signoff", methods=["POST"])
@allow(Role.SUPERVISOR)
def signoff(assessment_id: int) -> Any:
    return _supervisor_action(
        assessment_id, SignOffForm,
        lambda a, f: services.sign_off(db.session, a, current_user, f.remark.data or ""),
        _("Assessment signed off. Your name, the date and the remark now appear in its report."))


@bp.route("/<int:assessment_id>/reopen", methods=["POST"])
@allow(Role.SUPERVISOR)
def reopen(assessment_id: int) -> Any:
    return _supervisor_action(
        assessment_id, ReopenForm,
        lambda a, f: services.reopen(db.session, a, current_user, f.reason.data),
        _("Assessment reopened. The unit can change its answers and submit again."))
