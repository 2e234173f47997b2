"""Service cards of members transferred before cards followed transfers (A-12) move to the member's
union now, each with a trail row saying so (status unchanged). Cancelled cards stay where they were.
Plain SQL on purpose: the models may have moved on when this runs. Hand-written.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
from sqlalchemy import text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STALE = """FROM service_card c JOIN member m ON m.id = c.member_id
           WHERE c.status <> 'cancelled' AND c.org_id <> m.org_id"""


def upgrade():
    bind = op.get_bind()
    bind.execute(text(f"""
        INSERT INTO review_trail (entity, entity_id, action, action_label, from_status, to_status, actor_name,
                                  reason, at)
        SELECT 'service_card', c.id, 'transfer', '随会员转会', c.status, c.status, '系统',
               '数据修正：会员此前已转会，会员服务卡随会员转入现所属工会', CURRENT_TIMESTAMP
        {STALE}"""))
    bind.execute(text("""
        UPDATE service_card SET org_id = (SELECT m.org_id FROM member m WHERE m.id = service_card.member_id)
        WHERE status <> 'cancelled'
          AND org_id <> (SELECT m.org_id FROM member m WHERE m.id = service_card.member_id)"""))


def downgrade():
    pass  # which union a card sat with before is in its trail; nothing to undo automatically
