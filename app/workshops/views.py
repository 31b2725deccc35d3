"""Workshop pages: the trainer's workshops, live board, consensus and report (/workshops/...), and the
participants' join and answer pages (/w/...), which need no account.

Participants are recognised by a cookie, and their answer forms by an HMAC token instead of the session CSRF
token: see participants.py.
"""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any, NoReturn

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WResponse
from wtforms.fields.choices import SelectChoice

from .. import audit, pdfcache, ratelimit
from ..access import allow, get_conversion_unit, get_workshop, public, scope_conversion_units, scope_workshops
from ..actions import services as action_services
from ..content import Content, Recommendation
from ..content.current import current as current_content
from ..content.current import for_version
from ..db import db
from ..display import locale_code
from ..errors import fail
from ..extensions import client_address, csrf
from ..links import external_url
from ..models import Role, User, utcnow
from ..reports.pdf import render_pdf
from . import board as board_mod
from . import participants, services, svg
from . import report as report_mod
from .forms import (
    TITLE_MAX,
    ActionForm,
    ConvertForm,
    JoinForm,
    NewWorkshopForm,
    PaceForm,
    answer_field_names,
    answer_form_class,
    consensus_form_class,
)
from .join_page import join_page
from .models import Pacing, Participant, Workshop, WorkshopStatus

bp = Blueprint("workshops", __name__)

def _content(w: Workshop) -> Content:
    return for_version(w.content_version)


def _join_url(w: Workshop) -> str:
    return external_url("workshops.join_link", code=w.code)


# --- participants ---------------------------------------------------------------------------------------------


def _join_limit() -> ratelimit.Limit:
    """Failed join-code attempts per address. Only failures count: a whole class behind one NAT address joins
    without being throttled, and its joins cost one read of the counter and no write."""
    return ratelimit.Limit("workshop-join", client_address(), current_app.config["WORKSHOP_JOIN_LIMIT"])


def _join_refused() -> NoReturn:
    """Refuse with 429; the refusal is audited best-effort, since the join link is opened with a GET and the
    429 page must come whatever happens to that write."""
    db.session.rollback()
    db.best_effort(lambda session: audit.record(session, "workshop_join_rate_limited", "workshop", "",
                                                detail="failed join-code limit"),
                   "audit event workshop_join_rate_limited")
    abort(429)


def _check_join_limit() -> None:
    if ratelimit.exhausted(_join_limit()):
        _join_refused()


def _count_failed_join() -> None:
    """Count a wrong, closed or expired code; when that passes the limit, the refusal replaces the answer, so
    no more failed guesses are answered than the limit allows, however many arrive at once."""
    db.session.rollback()  # the counter is written on a connection of its own: hold no lock here meanwhile
    if ratelimit.reserve(_join_limit()) is None:
        _join_refused()

JOIN_MESSAGES = {
    services.JOIN_WRONG: lambda: _("There is no workshop with this code. Check the code on the screen and try "
                                   "again (it has six letters and digits, such as ABC-234)."),
    services.JOIN_CLOSED: lambda: _("This workshop is closed: it no longer accepts answers. Ask the trainer if "
                                    "it should be reopened."),
    services.JOIN_EXPIRED: lambda: _("This join code has expired. Ask the trainer for a new code."),
}


def _render_join(form: JoinForm, status: int = 200, why: str | None = None,
                 w: Workshop | None = None) -> tuple[str, int]:
    message = JOIN_MESSAGES[why]() if why in JOIN_MESSAGES else None
    return render_template("workshops/join.html", form=form, message=message,
                           workshop_title=w.title if w is not None and why == services.JOIN_OK else None), status


@bp.route("/w/")
@public
def join_form() -> tuple[str, int]:
    return _render_join(JoinForm())


@bp.route("/w/j/<code>")
@public
def join_link(code: str) -> tuple[str, int]:
    """The address in the QR code: shows the join form with the code filled in (joining itself is a POST, so
    link previews and prefetchers never create participants). The page of an open workshop is mostly served
    from a kept copy (see join_page): the whole room opens it in the same second."""
    _check_join_limit()
    w, why = services.find_for_join(db.session, code)

    def form() -> JoinForm:
        return JoinForm(formdata=None, code=services.format_code(services.normalise_code(code)))

    if w is None or why != services.JOIN_OK:
        _count_failed_join()
        return _render_join(form(), 404 if why == services.JOIN_WRONG else 410, why)
    return join_page(w, lambda: _render_join(form(), 200, why, w)[0]), 200


@bp.route("/w/join", methods=["POST"])
@public
def join() -> WResponse | tuple[str, int]:
    # Checks run in a read transaction; SQLite's write lock is taken only for the insert, so a room joining
    # in the same second queues for a millisecond each, not for the whole request.
    db.mark_write_intent(False)
    form = JoinForm()
    if not form.validate_on_submit():
        return _render_join(form, 422)
    _check_join_limit()
    w, why = services.find_for_join(db.session, form.code.data)
    if w is None or why != services.JOIN_OK:
        _count_failed_join()
        return _render_join(form, 404 if why == services.JOIN_WRONG else 410, why)
    target = url_for("workshops.participant_home", workshop_id=w.id)
    if services.participant_for(db.session, w.id, _cookie_token(w.id)) is not None:
        return redirect(target)  # joined before in this browser: keep the same answers
    workshop_id = w.id
    db.start_writing()
    _p, token = services.join(db.session, workshop_id, form.role_label.data or "")
    db.session.commit()
    resp = redirect(target)
    resp.set_cookie(participants.cookie_name(workshop_id), token, max_age=participants.COOKIE_MAX_AGE,
                    path=participants.COOKIE_PATH, httponly=True,
                    samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return resp


def _cookie_token(workshop_id: int) -> str | None:
    return request.cookies.get(participants.cookie_name(workshop_id))


def _participant(workshop_id: int) -> tuple[Workshop, Participant]:
    """The workshop and this browser's participant in it; a clear 403 page when it has not joined."""
    found = services.workshop_and_participant(db.session, workshop_id, _cookie_token(workshop_id))
    if found is None:
        abort(Response(render_template("workshops/not_joined.html"), status=403))
    return found


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@bp.route("/w/<int:workshop_id>/")
@public
def participant_home(workshop_id: int) -> str:
    w, p = _participant(workshop_id)
    content = _content(w)
    mine = services.my_answers(db.session, p)
    return render_template("workshops/participant_home.html", w=w, progress=participants.progress(w, content, mine),
                           answered=len(mine), role_label=p.role_label, saved_number=_saved_number(w, content))


def _answer_rec(w: Workshop, content: Content, number: int) -> Recommendation:
    rec = content.recommendation_by_number.get(number)
    if rec is None or rec.id not in w.rec_ids:
        abort(404)
    return rec


def _render_answer(w: Workshop, p: Participant, content: Content, rec: Recommendation, form: Any,
                   status: int = 200, mine: dict[str, str] | None = None, **extra: Any) -> tuple[str, int]:
    mine = services.my_answers(db.session, p) if mine is None else mine
    progress = participants.progress(w, content, mine)
    open_ids = [r.rec.id for r in progress if r.open]
    nxt = next((r.rec.number for r in progress if r.open and r.rec.number > rec.number), None)
    return render_template("workshops/answer.html", w=w, content=content, rec=rec, form=form,
                           form_token=participants.form_token(p, current_app.config["SECRET_KEY"]),
                           editable=rec.id in open_ids, progress=progress,
                           next_number=nxt, saved_number=_saved_number(w, content), **extra), status


@bp.route("/w/<int:workshop_id>/r/<int:number>", methods=["GET", "POST"])
@public
@csrf.exempt  # the per-participant form token (ft) protects this form; see the module docstring
def answer(workshop_id: int, number: int) -> Any:
    if request.method == "POST":
        # Look up and validate in a read transaction; SQLite's write lock is taken only for the save itself,
        # so 200 participants saving at once queue for a millisecond each, not for the whole request.
        db.mark_write_intent(False)
    w, p = _participant(workshop_id)
    content = _content(w)
    rec = _answer_rec(w, content, number)
    form_class = answer_form_class(rec)
    if request.method == "GET":
        mine = services.my_answers(db.session, p)
        form = form_class(data={f"q_{q.id}": mine.get(q.id) for q in rec.questions})
        return _render_answer(w, p, content, rec, form, mine=mine)
    if not participants.form_token_ok(request.form.get("ft", ""), p, current_app.config["SECRET_KEY"]):
        fail(400, _("This answer form does not belong to you. Reload the page and answer again."))
    unknown = sorted(k for k in request.form if k not in answer_field_names(rec))
    if unknown:
        fail(400, _("The form contained fields this page does not have. Nothing was saved."))
    form = form_class(request.form)
    if not form.validate():
        if _wants_json():
            return jsonify(ok=False, error=_("Not a valid answer.")), 422
        return _render_answer(w, p, content, rec, form, 422, invalid=True)
    values = {q.id: form[f"q_{q.id}"].data or None for q in rec.questions}
    participant_id = p.id
    db.start_writing()
    try:
        w = services.workshop_for_save(db.session, workshop_id)
        saved = services.save_answers(db.session, w, participant_id, content, rec.id, values)
        db.session.commit()
    except services.StateError as exc:
        db.session.rollback()
        db.mark_write_intent(False)
        closed = isinstance(exc, services.ClosedError)
        msg = (_("The workshop is closed, so your answers can no longer be changed. Nothing was saved.") if closed
               else _("The trainer has not opened this recommendation now. Nothing was saved."))
        if _wants_json():
            return jsonify(ok=False, error=msg, closed=closed), 409
        return _render_answer(w, p, content, rec, form, 409, refused=msg)
    if _wants_json():
        return jsonify(ok=True, saved=saved, message=_("Saved"))
    # "Saved" travels in the address (?saved=N), not in a flash message: a participant's pages then never
    # write the signed session cookie, which is most of the cost of a save besides the database.
    # Say "saved" only when answers to this recommendation are stored; with nothing chosen, say so instead.
    stored = saved > 0 or any(q.id in services.my_answers(db.session, p) for q in rec.questions)
    said: dict[str, Any] = {"saved": rec.number} if stored else {"saved": rec.number, "nothing": 1}
    if request.form.get("action") == "next":
        open_numbers = [content.recommendation_by_id[r].number for r in services.answerable_rec_ids(w)]
        following = next((n for n in open_numbers if n > rec.number), None)
        if following is not None:
            return redirect(url_for("workshops.answer", workshop_id=w.id, number=following, **said))
        return redirect(url_for("workshops.participant_home", workshop_id=w.id, **said))
    return redirect(url_for("workshops.answer", workshop_id=w.id, number=rec.number, **said))


def _saved_number(w: Workshop, content: Content) -> int | None:
    """The recommendation whose answers the previous request saved, if the address names one of this workshop."""
    n = request.args.get("saved", type=int)
    rec = content.recommendation_by_number.get(n) if n is not None else None
    return n if rec is not None and rec.id in w.rec_ids else None


@bp.route("/w/<int:workshop_id>/status")
@public
def participant_status(workshop_id: int) -> WResponse:
    """What a participant's page polls: is the workshop open, and which recommendation the trainer opened."""
    w, _p = _participant(workshop_id)
    content = _content(w)
    numbers = [content.recommendation_by_id[r].number for r in services.answerable_rec_ids(w)]
    return jsonify(status=w.status, pacing=w.pacing, open=numbers,
                   home=url_for("workshops.participant_home", workshop_id=w.id))


# --- trainer ---------------------------------------------------------------------------------------------------


@bp.route("/workshops/")
@allow(Role.TRAINER)
def index() -> str:
    workshops = db.session.scalars(scope_workshops(current_user).order_by(Workshop.created_at.desc())).all()
    joined = dict(db.session.execute(
        select(Participant.workshop_id, func.count()).where(Participant.workshop_id.in_([w.id for w in workshops]))
        .group_by(Participant.workshop_id)).all())
    return render_template("workshops/index.html", workshops=workshops, joined=joined,
                           format_code=services.format_code, now=utcnow())


def _new_form(content: Content) -> NewWorkshopForm:
    form = NewWorkshopForm()
    form.recommendations.choices = [SelectChoice(r.id, f"{r.number}. {r.title}") for r in content.recommendations]
    if request.method == "GET":
        form.recommendations.data = [r.id for r in content.recommendations]
    return form


@bp.route("/workshops/new", methods=["GET", "POST"])
@allow(Role.TRAINER)
def create() -> Any:
    content = current_content()
    form = _new_form(content)
    if request.method == "GET":
        return render_template("workshops/new.html", form=form, content=content)
    if not form.validate_on_submit():
        return render_template("workshops/new.html", form=form, content=content), 422
    try:
        w = services.create_workshop(db.session, current_user, form.title.data, content, form.recommendations.data,
                                     form.pacing.data, current_app.config["WORKSHOP_CODE_HOURS"])
    except services.StateError as exc:
        db.session.rollback()
        fail(409, _("The workshop cannot be opened: %(why)s.", why=str(exc)))
    db.session.commit()
    flash(_("Workshop opened. Show the join code or the QR code to the participants."), "success")
    return redirect(url_for("workshops.board", workshop_id=w.id))


def _fresh(workshop_id: int) -> Workshop:
    """The trainer's workshop, after deleting participant-level answers if the retention period is over
    (purge on access, in addition to the cron command).

    The pages that call this are reads: the purge runs best-effort in a short transaction of its own, so a busy
    or locked database delays it to the next visit (or the cron command) instead of failing the page.
    """
    w = get_workshop(workshop_id)
    days = current_app.config["WORKSHOP_RETENTION_DAYS"]
    if services.purge_due(w, utcnow(), days):
        def purge(session: Any) -> None:
            locked = session.scalars(select(Workshop).where(Workshop.id == workshop_id).with_for_update()).first()
            if locked is not None and services.purge_due(locked, utcnow(), days):
                services.purge_workshop(session, locked, _content(locked))

        if db.best_effort(purge, f"retention purge of workshop {workshop_id}"):
            db.session.rollback()  # read again, after the purge (SQLite keeps the snapshot of the open read)
            w = get_workshop(workshop_id)
    return w


def _board_context(w: Workshop) -> dict[str, Any]:
    content = _content(w)
    counts = services.answer_counts(db.session, w)
    board = board_mod.build_board(content, w.rec_ids, counts)
    total = len(board.content.questions)
    now = utcnow()
    return dict(w=w, board=board, participation=services.participation(db.session, w, total),
                hists=svg.histograms(board.questions), code=services.format_code(w.code),
                join_url=_join_url(w), join_base=external_url("workshops.join_form"),
                code_expired=w.is_open and w.code_expires_at <= now, now=now,
                open_rec=content.recommendation_by_id.get(w.open_recommendation_id or ""),
                retention_days=current_app.config["WORKSHOP_RETENTION_DAYS"], k_min=board_mod.K_MIN)


@bp.route("/workshops/<int:workshop_id>")
@allow(Role.TRAINER)
def board(workshop_id: int) -> str:
    w = _fresh(workshop_id)
    return render_template("workshops/board.html", action_form=ActionForm(), pace_form=PaceForm(),
                           **_board_context(w))


@bp.route("/workshops/<int:workshop_id>/board/fragment")
@allow(Role.TRAINER)
def board_fragment(workshop_id: int) -> str:
    """The live part of the board, polled by static/js/workshop.js (the full page works by reloading too)."""
    w = _fresh(workshop_id)
    return render_template("workshops/_board.html", **_board_context(w))


@bp.route("/workshops/<int:workshop_id>/join-screen")
@allow(Role.TRAINER)
def join_screen(workshop_id: int) -> str:
    w = get_workshop(workshop_id)
    return render_template("workshops/join_screen.html", w=w, code=services.format_code(w.code),
                           join_url=_join_url(w), join_base=external_url("workshops.join_form"),
                           code_expired=w.is_open and w.code_expires_at <= utcnow())


@bp.route("/workshops/<int:workshop_id>/qr.svg")
@allow(Role.TRAINER)
def qr(workshop_id: int) -> WResponse:
    w = get_workshop(workshop_id)
    buf = io.BytesIO()
    segno.make(_join_url(w), error="m").save(buf, kind="svg", scale=8, border=2, xmldecl=False,
                                             title="Join code QR")
    return Response(buf.getvalue(), mimetype="image/svg+xml")


@bp.route("/workshops/<int:workshop_id>/close", methods=["POST"])
@allow(Role.TRAINER)
def close(workshop_id: int) -> WResponse:
    w = get_workshop(workshop_id, for_update=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.close_workshop(db.session, w, current_user):
        flash(_("Workshop closed. Participants can no longer change their answers. Their individual answers are "
                "deleted %(d)d days from now; the group results stay.",
                d=current_app.config["WORKSHOP_RETENTION_DAYS"]), "success")
    db.session.commit()
    _prepare_report_pdf(w.id)
    return redirect(url_for("workshops.board", workshop_id=w.id))


@bp.route("/workshops/<int:workshop_id>/reopen", methods=["POST"])
@allow(Role.TRAINER)
def reopen(workshop_id: int) -> WResponse:
    w = get_workshop(workshop_id, for_update=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        changed = services.reopen_workshop(db.session, w, current_user, current_app.config["WORKSHOP_CODE_HOURS"])
    except services.StateError:
        db.session.rollback()
        fail(409, _("This workshop cannot be reopened: its participants' answers were deleted after the "
                    "retention period. Open a new workshop instead."))
    db.session.commit()
    if changed:
        flash(_("Workshop reopened with a new join code: %(c)s (the old one was in use by another workshop).",
                c=services.format_code(w.code)), "success")
    else:
        flash(_("Workshop open. The join code %(c)s is valid for another %(h)d hours.",
                c=services.format_code(w.code), h=current_app.config["WORKSHOP_CODE_HOURS"]), "success")
    return redirect(url_for("workshops.board", workshop_id=w.id))


@bp.route("/workshops/<int:workshop_id>/pace", methods=["POST"])
@allow(Role.TRAINER)
def pace(workshop_id: int) -> WResponse:
    w = get_workshop(workshop_id, for_update=True)
    form = PaceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_pace(db.session, w, None if form.rec.data == Pacing.ALL.value else form.rec.data)
    except services.StateError:
        db.session.rollback()
        abort(400)
    db.session.commit()
    return redirect(url_for("workshops.board", workshop_id=w.id))


def _convert_form(board: board_mod.Board) -> ConvertForm:
    form = ConvertForm()
    units = db.session.scalars(scope_conversion_units(current_user))
    form.unit.choices = [SelectChoice(str(u.id), u.name) for u in units]
    form.hotspots.choices = [SelectChoice(q.question.id, f"{q.label} {q.question.text}") for q in _hotspots(board)]
    return form


def _hotspots(board: board_mod.Board) -> list[board_mod.QuestionStats]:
    """The hotspots a trainer may carry into a unit's plan: those the workshop report lists (most disagreement
    first)."""
    return board.disagreements[:report_mod.HOTSPOTS_SHOWN]


def _proposals(board: board_mod.Board, chosen: list[str]) -> list[action_services.Proposal]:
    """The chosen hotspots as proposed actions: "Agree on <question>" under the question's recommendation."""
    out = []
    for q in _hotspots(board):
        if q.question.id in chosen:
            title = _("Agree on %(question)s", question=f"{q.label} {q.question.text}")
            description = ""
            if len(title) > TITLE_MAX:  # the whole question stays readable below a shortened title
                title, description = title[:TITLE_MAX - 1] + "…", q.question.text
            out.append(action_services.Proposal(q.question.recommendation_id, title, description))
    return out


@bp.route("/workshops/<int:workshop_id>/consensus", methods=["GET", "POST"])
@allow(Role.TRAINER)
def consensus(workshop_id: int) -> Any:
    w = _fresh(workshop_id) if request.method == "GET" else get_workshop(workshop_id, for_update=True)
    content = _content(w)
    board = board_mod.build_board(content, w.rec_ids, services.answer_counts(db.session, w))
    qids = tuple(q.question.id for q in board.questions)
    form_class = consensus_form_class(qids)
    recorded = services.consensus_values(db.session, w)
    if request.method == "GET":
        defaults = board.group_values
        form = form_class(formdata=None, data={f"c_{q}": recorded.get(q, defaults.get(q, "")) for q in qids})
    else:
        form = form_class()
        if form.validate_on_submit():
            values = {q: form[f"c_{q}"].data or None for q in qids}
            services.record_consensus(db.session, w, current_user, content, values)
            db.session.commit()
            flash(_("Consensus recorded for %(n)d question(s).", n=sum(1 for v in values.values() if v)),
                  "success")
            return redirect(url_for("workshops.consensus", workshop_id=w.id))
    convert_form = _convert_form(board)
    if request.method == "GET":
        convert_form.title.data = _("%(t)s (workshop consensus)", t=w.title)[:200]
    status = 200 if request.method == "GET" else 422
    return render_template("workshops/consensus.html", w=w, board=board, form=form, recorded=recorded,
                           convert_form=convert_form, hists=svg.histograms(board.questions),
                           conversions=services.conversions(db.session, w), k_min=board_mod.K_MIN), status


@bp.route("/workshops/<int:workshop_id>/convert", methods=["POST"])
@allow(Role.TRAINER)
def convert(workshop_id: int) -> Any:
    w = get_workshop(workshop_id, for_update=True)
    content = _content(w)
    board = board_mod.build_board(content, w.rec_ids, services.answer_counts(db.session, w))
    form = _convert_form(board)
    if not form.validate_on_submit():
        flash(_("Choose a unit of your agency and a title for the draft assessment."), "error")
        return redirect(url_for("workshops.consensus", workshop_id=w.id))
    unit = get_conversion_unit(form.unit.data)
    proposals = _proposals(board, form.hotspots.data or [])
    try:
        aid = services.convert_to_assessment(db.session, w, current_user, unit, form.title.data, content)
        action_services.propose_from_workshop(db.session, unit, aid, w.title, content.version, proposals,
                                              current_user)
    except services.StateError as exc:
        db.session.rollback()
        flash(_("No draft assessment was created: %(why)s.", why=str(exc)), "error")
        return redirect(url_for("workshops.consensus", workshop_id=w.id))
    db.session.commit()
    flash(_("Draft assessment created for %(u)s. Its members review the answers, complete the rest and submit "
            "it; as a trainer you do not see unit assessments.", u=unit.name), "success")
    if proposals:
        flash(_("%(n)d disagreement(s) carried into the unit's action plan as proposals; a member of the unit "
                "adopts or drops them.", n=len(proposals)), "success")
    return redirect(url_for("workshops.consensus", workshop_id=w.id))


def _report(w: Workshop) -> report_mod.WorkshopReport:
    content = _content(w)
    total = len(board_mod.subset(content, w.rec_ids).questions)
    trainer = db.session.get(User, w.created_by_id)
    return report_mod.build_workshop_report(
        w, content, services.answer_counts(db.session, w), services.consensus_values(db.session, w),
        services.participation(db.session, w, total), trainer=trainer.name if trainer else "",
        agency=w.agency.name, marking=current_app.config["HANDLING_MARKING"],
        organisation=current_app.config["ORGANISATION_NAME"],
        retention_days=current_app.config["WORKSHOP_RETENTION_DAYS"], now=utcnow())


@bp.route("/workshops/<int:workshop_id>/report")
@allow(Role.TRAINER)
def report(workshop_id: int) -> str:
    w = _fresh(workshop_id)
    return render_template("workshops/report.html", r=_report(w))


def _filename(w: Workshop) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"workshop-report-{w.title}").strip("-")[:120]
    return f"{stem}.pdf"


PDF_KIND = "workshop"


def _pdf_key(session: Any, workshop_id: int) -> str | None:
    """The cache key of a closed workshop's report PDF in the current language; None if not closed (rendered
    each time: its answers still change). Read before rendering (app.pdfcache)."""
    w = session.get(Workshop, workshop_id)
    if w is None or w.status != WorkshopStatus.CLOSED.value:
        return None
    cfg = current_app.config
    raw = (services.report_fingerprint(session, w), _content(w).sha256, cfg["HANDLING_MARKING"],
           cfg["ORGANISATION_NAME"], cfg["WORKSHOP_RETENTION_DAYS"])
    return hashlib.sha256(repr(raw).encode()).hexdigest()[:32]


def _render_report_pdf(session: Any, workshop_id: int) -> bytes:
    w = session.get(Workshop, workshop_id)
    return render_pdf(render_template("pdf/workshop_report.html", r=_report(w)), current_app.static_folder or "")


def _prepare_report_pdf(workshop_id: int) -> None:
    """After closing (committed): render the report PDF off the request, in this language and the default."""
    if not current_app.config.get("PREPARE_REPORTS", True):
        return
    for language in dict.fromkeys([locale_code(), current_app.config["DEFAULT_LANGUAGE"]]):
        with force_locale(language):
            key = _pdf_key(db.session, workshop_id)
            if key is not None:
                pdfcache.start(PDF_KIND, workshop_id, language, key, lambda s: _pdf_key(s, workshop_id),
                               lambda s: _render_report_pdf(s, workshop_id), claim_first=False)


@bp.route("/workshops/<int:workshop_id>/report.pdf")
@allow(Role.TRAINER)
def report_pdf(workshop_id: int) -> WResponse:
    """A closed workshop's report comes from the cache (rendered when it was closed, or by the first download);
    an open one is rendered each time."""
    w = _fresh(workshop_id)
    filename, language = _filename(w), locale_code()
    key = _pdf_key(db.session, w.id)
    data = pdfcache.cached(db.session, PDF_KIND, w.id, language, key) if key is not None else None
    state = "hit" if data is not None else ("miss" if key is not None else "open")
    also = None
    if data is None:
        data = _render_report_pdf(db.session, w.id)
        if key is not None:
            fresh, wid = data, w.id
            also = lambda session: pdfcache.store(session, PDF_KIND, wid, language, key, fresh)  # noqa: E731
    audit.record_download("workshop_report_downloaded", "workshop", w.id, agency_id=w.agency_id, detail="pdf",
                          also=also)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Report-Cache": state})
