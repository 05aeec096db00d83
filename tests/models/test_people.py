import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ResidentIdentity, Role
from app.models.masking import mask_name, mask_phone
from tests import factories


@pytest.mark.parametrize("raw, masked", [
    ("13812345678", "138****5678"), ("138-1234-5678", "138****5678"), ("+86 138 1234 5678", "861****5678"),
    ("5551234", "*****34"), ("", ""), (None, None)])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize("raw, masked", [("张三华", "张*华"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("李", "李")])
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked


def test_public_view_of_a_resident_never_shows_the_phone(app):
    resident = factories.resident(name="王秀英", phone="13912345678")
    public = resident.public_view()
    assert public["phone"] == "139****5678"
    assert public["name"] == "王*英"
    assert "13912345678" not in repr(resident)
    assert resident.staff_view()["phone"] == "13912345678"


def test_staff_roles(app):
    member = factories.staff(roles=[Role.DUTY, Role.COMMUNITY_ADMIN])
    db.session.commit()
    assert member.roles == {"duty", "community_admin"}
    assert member.has_role(Role.COMMUNITY_ADMIN)
    member.set_roles([Role.GRID_WORKER])
    db.session.commit()
    db.session.refresh(member)
    assert member.roles == {"grid_worker"}


def test_identity_is_unique_per_channel_and_kind(app):
    factories.resident(identities=[("mp", "openid", "o-abc")])
    db.session.commit()
    with pytest.raises(IntegrityError):
        factories.resident(identities=[("mp", "openid", "o-abc")])
    db.session.rollback()
    # The same openid string on another channel is another identity.
    factories.resident(identities=[("miniprogram", "openid", "o-abc")])
    db.session.commit()
    assert db.session.query(ResidentIdentity).count() == 2


def test_staff_must_belong_somewhere(app):
    from app.models import Staff
    db.session.add(Staff(name="无归属"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
