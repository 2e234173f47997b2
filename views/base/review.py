"""Review flows in views: a transition table as FAB list actions confirmed on one form page
(``ReviewFlowMixin``), and the one-row steps a show page posts (``StepFlowMixin``)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.baseviews import expose

from app.extensions import db
from app.security import current_user
from app.services.errors import DomainError
from app.services.review_flow import actions_from, flow_actions

from .display import as_list


class ReviewFlowMixin:
    """Turns a transition table into FAB actions, each confirmed on one form page.

    Subclasses set ``review_flow`` and ``review_status_attr`` and implement
    ``apply_review(item_id, action, reason)`` by calling one domain service.
    """

    review_flow: dict | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        flow = cls.__dict__.get("review_flow")
        if not flow:
            return
        perms = dict(getattr(cls, "method_permission_name", None) or {})
        for action_name, transition in flow_actions(flow).items():
            method = f"flow_{action_name}"

            def handler(self, items, _action=action_name):
                # the list the rows were picked on (e.g. filtered to 待审核) is where the step returns
                return redirect(url_for(f"{self.endpoint}.flow_form", action=_action,
                                        pk=[i.id for i in as_list(items)], next=self.review_return_url(request.referrer)))

            handler.__name__ = method
            icon = "fa-times" if transition.needs_reason else "fa-check"
            # list (bulk) only: the show page offers just the steps valid from the row's state
            setattr(cls, method, fab_action(action_name, transition.label, icon=icon, single=False)(handler))
            perms[method] = transition.permission
        cls.method_permission_name = perms

    def apply_review(self, item_id: int, action: str, reason: str | None):
        raise NotImplementedError

    def review_return_url(self, url: str | None) -> str:
        """``url`` if it is a page of this view on this site (the filtered list, a show page), else the list."""
        parts = urlsplit(url or "")
        if parts.netloc in ("", request.host) and parts.path.startswith(f"{self.route_base}/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return url_for(f"{self.endpoint}.list")

    @expose("/flow/<action>", methods=["GET", "POST"])
    def flow_form(self, action):
        transition = flow_actions(self.review_flow).get(action)
        if transition is None:
            abort(404)
        refused = self._require_permission(f"can_{transition.permission}")
        if refused:
            return refused
        # the form repeats the query string's pks: each row once
        pks = list(dict.fromkeys(request.values.getlist("pk")))
        items = [self.scoped_item(pk) for pk in pks]
        back = self.review_return_url(request.values.get("next"))
        if not items:
            flash("请先勾选要操作的记录", "warning")
            return redirect(back)
        if request.method == "POST":
            reason = request.form.get("reason", "").strip()
            if transition.needs_reason and not reason:
                flash(f"「{transition.label}」须填写原因", "danger")
            else:
                done = 0
                for item in items:
                    try:
                        self.apply_review(item.id, action, reason)
                        done += 1
                    except DomainError as err:
                        db.session.rollback()
                        flash(f"{item}: {err.message}", "danger")
                if done:
                    flash(f"「{transition.label}」已完成 {done} 条", "success")
                return redirect(back)
        return self.render_template("union/flow_form.html", title=transition.label, transition=transition,
                                    items=items, action=action, reason=request.form.get("reason", ""), back=back)


class StepFlowMixin:
    """One step of a row's flow, posted from its show page to ``step/<pk>``.

    Subclasses set ``step_actions`` (the steps this page may take; each also needs the grant
    ``can_<step_permission>``, mapped with ``method_permission_name = {"step": ...}``) and implement
    ``step_flow()`` (the transition table) and ``apply_step(item_id, action, form, actor)`` by calling
    one domain service. A step not offered here answers 404; a refusal is flashed in Chinese on the
    show page; a success returns to the list.
    """

    step_actions: tuple[str, ...] = ()
    step_permission = "review"

    def step_flow(self) -> dict:
        raise NotImplementedError

    def apply_step(self, item_id: int, action: str, form, actor):
        raise NotImplementedError

    def step_labels(self) -> dict[str, str]:
        return {a: t.label for (_s, a), t in self.step_flow().items()}

    def allowed_steps(self, item) -> list[str]:
        """The steps valid from the row's state that this page offers and the user may take."""
        if not self.appbuilder.sm.has_access(f"can_{self.step_permission}", self.class_permission_name):
            return []
        return [a for a in actions_from(self.step_flow(), item.status) if a in self.step_actions]

    @expose("/step/<int:pk>", methods=["POST"])
    @has_access
    def step(self, pk):
        """One step of the flow on this row: the service decides; a refusal is flashed in Chinese."""
        item = self.scoped_item(pk)
        action = request.form.get("action", "")
        if action not in self.step_actions:
            abort(404)
        label = self.step_labels().get(action, action)
        try:
            self.apply_step(item.id, action, request.form, current_user())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return redirect(url_for(".show", pk=pk))
        flash(f"「{label}」已完成：{item.number}", "success")
        return redirect(url_for(".list"))
