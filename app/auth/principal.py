"""The signed-in user as the rest of the app sees them: role, parks in scope, actor for the audit."""

from __future__ import annotations

from dataclasses import dataclass

from app.audit.actor import Actor
from app.auth.models import Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: Role
    # None: every park (admin, leader). A firm user has no parks but one firm.
    park_codes: frozenset[str] | None
    firm_id: int | None
    actor: Actor

    @property
    def label(self) -> str:
        return f"{self.display_name}（{self.username}）"

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.admin, Role.officer, Role.leader)

    @property
    def can_edit_firms(self) -> bool:
        """Admins and officers edit firms (officers only in their parks); leaders only read."""
        return self.role in (Role.admin, Role.officer)

    @property
    def can_create_firms(self) -> bool:
        return self.role in (Role.admin, Role.officer)

    @property
    def can_see_personal_data(self) -> bool:
        """PIPL: who may see contacts' full phone and ID numbers (leaders see them masked)."""
        return self.role in (Role.admin, Role.officer, Role.firm)

    def may_use_park(self, park_code: str) -> bool:
        return self.park_codes is None or park_code in self.park_codes
