"""确认书打印 (S004:L78–118): tabs 未打印 / 已打印, the person list (search, xlsx), the confirm
checkbox gating 打印确认书 (a PDF download), 刷新计划书 (a new version), old versions downloadable."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import func, select

from app.extensions import db
from app.security import current_user
from app.services import exports
from app.services.errors import DomainError
from app.services.mutual_aid import enrollment as enrollments
from app.services.mutual_aid import letters as svc
from app.storage import store
from app.xlsx.writer import StreamingSheet
from models.mutual_aid import ConfirmationLetter, Enrollment, EnrollmentStatus, MemberUnit

from ..attachments import attachment_response
from ..base import send_xlsx_once

PAGE = 50


class LetterView(BaseView):
    """确认书打印 of the effective enrollments in scope (the unit's own, or the office's subtree)."""

    route_base = "/letters"
    default_view = "index"
    method_permission_name = {"index": "list", "letter": "show", "persons_xlsx": "show", "version": "show",
                              "print_letter": "print", "refresh": "refresh"}

    def _enrollment(self, enrollment_id: int) -> Enrollment:
        try:
            enrollment = enrollments.scoped_enrollment(db.session, enrollment_id, current_user())
        except DomainError:
            abort(404)
        if enrollment.status != EnrollmentStatus.EFFECTIVE:
            abort(404)
        return enrollment

    @expose("/")
    @has_access
    def index(self):
        tab = "printed" if request.args.get("tab") == "printed" else "unprinted"
        q = (request.args.get("q") or "").strip()[:40]
        latest = (select(ConfirmationLetter.enrollment_id, func.max(ConfirmationLetter.version).label("version"))
                  .group_by(ConfirmationLetter.enrollment_id).subquery())
        stmt = (select(Enrollment, ConfirmationLetter).join(latest, latest.c.enrollment_id == Enrollment.id)
                .join(ConfirmationLetter, (ConfirmationLetter.enrollment_id == Enrollment.id)
                      & (ConfirmationLetter.version == latest.c.version))
                .join(MemberUnit, MemberUnit.id == Enrollment.member_unit_id)
                .where(enrollments.enrollment_scope(current_user()), ConfirmationLetter.printed.is_(tab == "printed")))
        if q:
            stmt = stmt.where(MemberUnit.name.contains(q, autoescape=True)
                              | Enrollment.number.contains(q, autoescape=True))
        rows = db.session.execute(stmt.order_by(Enrollment.id.desc()).limit(200)).all()
        return self.render_template("union/mutual_aid/letters.html", title="确认书打印", tab=tab, rows=rows, q=q)

    @expose("/<int:enrollment_id>")
    @has_access
    def letter(self, enrollment_id):
        enrollment = self._enrollment(enrollment_id)
        q, page = (request.args.get("q") or "").strip()[:40], request.args.get("page", "0")
        page = int(page) if page.isdigit() and len(page) < 7 else 0
        rows = list(svc.person_rows(db.session, enrollment, q=q))
        sm = self.appbuilder.sm
        return self.render_template(
            "union/mutual_aid/letter.html", title=f"确认书 - {enrollment.member_unit.name}", enrollment=enrollment,
            letter=svc.current_letter(db.session, enrollment), versions=svc.letters_of(db.session, enrollment),
            rows=rows[page * PAGE:(page + 1) * PAGE], total=len(rows), page=page, pages=(len(rows) + PAGE - 1) // PAGE,
            q=q, headers=svc.LIST_HEADERS, can_print=sm.has_access("can_print", "LetterView"),
            can_refresh=sm.has_access("can_refresh", "LetterView"))

    @expose("/<int:enrollment_id>/persons.xlsx")
    @has_access
    def persons_xlsx(self, enrollment_id):
        """下载人员清单: the letter's person list (masked), audited."""
        enrollment = self._enrollment(enrollment_id)
        title = f"确认书人员清单_{enrollment.number}"
        with store().scratch(".xlsx") as path:
            sheet = StreamingSheet(path, "确认书人员清单", svc.LIST_HEADERS)
            count = 0
            for row in svc.person_rows(db.session, enrollment, q=request.args.get("q")):
                sheet.write(row)
                count += 1
            sheet.close()
            exports.audit_export(db.session, actor=current_user(), title=title, count=count,
                                 args=request.args.to_dict(flat=False))
            return send_xlsx_once(path, title)

    @expose("/<int:enrollment_id>/version/<int:version>")
    @has_access
    def version(self, enrollment_id, version):
        enrollment = self._enrollment(enrollment_id)
        try:
            return attachment_response(svc.letter_file(db.session, enrollment.id, version, actor=current_user()))
        except DomainError:
            abort(404)

    @expose("/<int:enrollment_id>/print", methods=["POST"])
    @has_access
    def print_letter(self, enrollment_id):
        """打印确认书: only with 「我已确认人员名单无误」 ticked; the PDF downloads."""
        enrollment = self._enrollment(enrollment_id)
        try:
            attachment = svc.print_letter(db.session, enrollment.id, actor=current_user(),
                                          confirmed=request.form.get("confirmed") == "1")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return redirect(url_for(".letter", enrollment_id=enrollment.id))
        return attachment_response(attachment)

    @expose("/<int:enrollment_id>/refresh", methods=["POST"])
    @has_access
    def refresh(self, enrollment_id):
        enrollment = self._enrollment(enrollment_id)
        try:
            letter = svc.refresh_letter(db.session, enrollment.id, actor=current_user())
            flash(f"确认书已刷新为第{letter.version}版，请重新确认人员名单并打印", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".letter", enrollment_id=enrollment.id))
