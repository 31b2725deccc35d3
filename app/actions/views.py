"""Action-plan pages: adopt or write an action from a gap, the unit's plan, edits, remarks and downloads.

Members of the unit change its plan; the agency's supervisors read it and may leave a remark; nobody else sees
it (``access.scope_actions``/``get_plan_unit``: 404 for another unit's or agency's plan).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response as WResponse

from .. import audit
from ..access import ASSESSMENT_ROLES, allow, get_action, get_assessment, get_plan_unit
from ..content.current import current as current_content
from ..content.current import for_version
from ..db import db
from ..errors import fail
from ..models import Role, Status, Unit
from ..reports import services as report_services
from ..reports.pdf import render_pdf
from ..supervisor.exports import safe_name
from . import exports, services
from .forms import ActionForm, ProposalForm, RemarkForm, status_choices
from .models import ActionItem

bp = Blueprint("actions", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _owner_choices(unit_id: int) -> list[tuple[str, str]]:
    return [("", _("No account (name below)"))] + [
        (str(u.id), u.name) for u in services.unit_members(db.session, unit_id)]


def _form(unit_id: int, **kw: Any) -> ActionForm:
    form = ActionForm(**kw)
    form.owner.choices = _owner_choices(unit_id)
    form.status.choices = status_choices()
    return form


def _input(form: ActionForm) -> services.ActionInput:
    return services.ActionInput(
        title=form.title.data or "", description=form.description.data or "",
        owner_id=int(form.owner.data) if form.owner.data else None, owner_name=form.owner_name.data or "",
        due_date=form.due_date.data, status=form.status.data or "planned", drop_reason=form.drop_reason.data or "",
        progress_note=form.progress_note.data or "", evidence=form.evidence.data or "")


@bp.route("/assessments/<int:assessment_id>/actions/new", methods=["GET", "POST"])
@allow(Role.MEMBER)
def adopt(assessment_id: int) -> Any:
    """Adopt one of the content's suggested actions for a gap, or write one's own, for one recommendation."""
    a = get_assessment(assessment_id, for_update=request.method == "POST")
    content = for_version(a.content_version)
    rec_id = request.values.get("rec", "")
    rec = content.recommendation_by_id.get(rec_id)
    if rec is None:
        fail(400, _("Unknown recommendation. Nothing was saved."))
    scores = report_services.build_context(a).scores
    current = next((s.current for s in scores.recommendations if s.id == rec.id), None)
    reached, suggested = services.suggestions(content, rec, current)
    form = _form(a.unit_id)
    if request.method == "GET":
        pick = request.args.get("pick", "")
        if pick.isdigit() and int(pick) < len(suggested):
            form.title.data = suggested[int(pick)][:200]
            form.description.data = suggested[int(pick)]
        form.owner.data = str(current_user.id)
        return render_template("actions/adopt.html", a=a, rec=rec, form=form, suggested=suggested,
                               reached=reached)
    if not form.validate_on_submit():
        return render_template("actions/adopt.html", a=a, rec=rec, form=form, suggested=suggested,
                               reached=reached), 422
    try:
        item = services.create_action(db.session, a.unit, a, rec, a.content_version, _input(form), current_user)
        db.session.commit()
    except services.InputError as exc:
        db.session.rollback()
        fail(400, str(exc))
    _prepare_reports(a.unit_id)
    flash(_("Action added to the plan: %(t)s", t=item.title), "success")
    return redirect(url_for("actions.plan", unit_id=a.unit_id) + f"#action-{item.id}")


def _plan_context(unit: Unit) -> dict[str, Any]:
    content = current_content()
    every = services.plan(db.session, unit.id)
    # Open actions by default (what a unit works from); "all" shows done and dropped ones too.
    filters = services.Filters(status=request.args.get("status", "open"), owner=request.args.get("owner", ""),
                               recommendation=request.args.get("rec", ""))
    # Workshop proposals are listed apart, above the plan, whatever the filter: they are not (yet) the plan.
    shown = [a for a in services.plan(db.session, unit.id, filters) if not a.is_proposed]
    today = services.today_utc()
    return {"proposals": [a for a in every if a.is_proposed], "decide_form": ProposalForm(),
            "unit": unit, "content": content, "groups": services.grouped(content, shown, for_version),
            "filters": filters,
            "counts": services.counts(every, today), "today": today, "owners": services.owners(every),
            "statuses": status_choices(), "recs": sorted({a.recommendation_id for a in every}),
            "can_edit": current_user.role == Role.MEMBER, "remark_form": RemarkForm(), "shown": len(shown),
            "latest": _latest_submitted(unit.id)}


def _prepare_reports(unit_id: int) -> None:
    """After a committed plan change: the unit's latest submitted gap report (it lists the plan) and the agency
    report are rendered again off the request (app.background), so the next download is ready."""
    from ..display import locale_code
    from ..supervisor import agency_report

    if not current_app.config.get("PREPARE_REPORTS", True):
        return
    latest = _latest_submitted(unit_id)
    if latest is not None:
        report_services.schedule_pdfs(latest, [locale_code(), current_app.config["DEFAULT_LANGUAGE"]])
    unit = db.session.get(Unit, unit_id)
    if unit is not None:
        agency_report.schedule_refresh(unit.agency_id)


def _latest_submitted(unit_id: int) -> int | None:
    from sqlalchemy import select

    from ..models import Assessment

    return db.session.scalars(select(Assessment.id).where(
        Assessment.unit_id == unit_id, Assessment.status == Status.SUBMITTED.value)
        .order_by(Assessment.submitted_at.desc()).limit(1)).first()


@bp.route("/units/<int:unit_id>/plan")
@allow(*ASSESSMENT_ROLES)
def plan(unit_id: int) -> str:
    return render_template("actions/plan.html", **_plan_context(get_plan_unit(unit_id)))


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@allow(Role.MEMBER)
def edit(action_id: int) -> Any:
    item = get_action(action_id, for_update=request.method == "POST")
    content = current_content()
    rec = content.recommendation_by_id.get(item.recommendation_id)
    if request.method == "GET":
        form = _form(item.unit_id, obj=item)
        form.owner.data = str(item.owner_id) if item.owner_id else ""
        form.version.data = item.version_id
        return render_template("actions/edit.html", item=item, rec=rec, form=form)
    form = _form(item.unit_id)
    if not form.validate_on_submit() or form.version.data is None:
        return render_template("actions/edit.html", item=item, rec=rec, form=form), 422
    try:
        changed = services.update_action(db.session, item, _input(form), form.version.data, current_user)
        db.session.commit()
    except services.ConflictError as exc:
        db.session.rollback()
        item = get_action(action_id)
        form.version.data = item.version_id  # saving again now overwrites, knowingly
        form.version.raw_data = None
        return render_template("actions/edit.html", item=item, rec=rec, form=form, conflict=exc), 409
    except services.InputError as exc:
        db.session.rollback()
        fail(400, str(exc))
    except StaleDataError:
        db.session.rollback()
        fail(409, _("Someone saved this action at the same moment. Reload the page and save again."))
    if changed:
        _prepare_reports(item.unit_id)
    flash(_("Action saved.") if changed else _("No changes to save."), "success")
    return redirect(url_for("actions.plan", unit_id=item.unit_id) + f"#action-{item.id}")


@bp.route("/actions/<int:action_id>/proposal", methods=["POST"])
@allow(Role.MEMBER)
def decide(action_id: int) -> Any:
    """Adopt a workshop's proposed action into the plan, or drop it with a reason."""
    item = get_action(action_id, for_update=True)
    form = ProposalForm()
    if not form.validate_on_submit() or form.version.data is None:
        fail(400, _("Choose to adopt or to drop the proposal; a drop needs a reason (at most 4000 characters, no "
                    "control characters). Nothing was saved."))
    adopt = form.decision.data == "adopt"
    try:
        services.decide_proposal(db.session, item, adopt, form.reason.data or "", form.version.data, current_user)
        db.session.commit()
    except services.ConflictError:
        db.session.rollback()
        fail(409, _("Someone changed this proposal in the meantime. Reload the page to see it."))
    except services.InputError as exc:
        db.session.rollback()
        fail(400, str(exc))
    flash(_("Action adopted into the plan: %(t)s", t=item.title) if adopt else _("Proposal dropped."), "success")
    return redirect(url_for("actions.plan", unit_id=item.unit_id) + f"#action-{item.id}")


@bp.route("/actions/<int:action_id>/remark", methods=["POST"])
@allow(Role.SUPERVISOR)
def remark(action_id: int) -> Any:
    item = get_action(action_id, for_update=True)
    form = RemarkForm()
    if not form.validate_on_submit():
        fail(400, _("Write a remark (at most 4000 characters, no control characters). Nothing was saved."))
    services.add_remark(db.session, item, form.remark.data or "", current_user)
    db.session.commit()
    _prepare_reports(item.unit_id)
    flash(_("Remark saved."), "success")
    return redirect(url_for("actions.plan", unit_id=item.unit_id) + f"#action-{item.id}")


def _download(unit: Unit, kind: str, data: bytes | str, mimetype: str) -> Response:
    audit.record_download("plan_downloaded", "unit", unit.id, agency_id=unit.agency_id, detail=kind)
    name = safe_name("action-plan", unit.name, ext=kind)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Cache-Control": "no-store"})


def _table(unit: Unit) -> tuple[list[ActionItem], list[list[str]]]:
    items = services.plan(db.session, unit.id)
    return items, exports.rows(current_content(), unit.name, items, services.today_utc())


@bp.route("/units/<int:unit_id>/plan.csv")
@allow(*ASSESSMENT_ROLES)
def plan_csv(unit_id: int) -> Response:
    unit = get_plan_unit(unit_id)
    return _download(unit, "csv", exports.csv_text(_table(unit)[1]), "text/csv; charset=utf-8")


@bp.route("/units/<int:unit_id>/plan.xlsx")
@allow(*ASSESSMENT_ROLES)
def plan_xlsx(unit_id: int) -> Response:
    unit = get_plan_unit(unit_id)
    return _download(unit, "xlsx", exports.xlsx_bytes(_table(unit)[1]), XLSX)


@bp.route("/units/<int:unit_id>/plan.ics")
@allow(*ASSESSMENT_ROLES)
def plan_ics(unit_id: int) -> Response:
    unit = get_plan_unit(unit_id)
    host = request.host.split(":")[0] or "localhost"
    text = exports.ics_text(current_content(), unit.name, services.plan(db.session, unit.id),
                            services.utcnow(), host)
    return _download(unit, "ics", text, "text/calendar; charset=utf-8")


@bp.route("/units/<int:unit_id>/plan.pdf")
@allow(*ASSESSMENT_ROLES)
def plan_pdf(unit_id: int) -> WResponse:
    unit = get_plan_unit(unit_id)
    ctx = _plan_context(unit)
    # To pin up: what is still to be done. Done and dropped actions stay in the page, Excel and CSV.
    ctx["groups"] = services.grouped(ctx["content"], services.plan(db.session, unit.id, services.Filters("open")),
                                     for_version)
    html = render_template("actions/plan_pdf.html", **ctx)
    return _download(unit, "pdf", render_pdf(html, current_app.static_folder or ""), "application/pdf")
