"""GET/DELETE /me/tokens: a person lists and revokes their own personal API tokens.

Values are never shown again (only hashes are stored); a revoked token fails at
once in this process and within the principal cache's lifetime (5 s) in others.
"""

from __future__ import annotations

from typing import Any

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.db.api_tokens import list_api_tokens, revoke_api_tokens
from nexuslims_kernel.errors import NotFoundError


class MyTokensHandler(BaseHandler):
    """GET /me/tokens; DELETE /me/tokens (all of them) or /me/tokens/{id} (one)."""

    def person_id(self) -> int:
        if self.principal.kind != "user" or self.principal.person_id is None:
            raise ApiError(401 if self.principal.kind == "anonymous" else 403, "only a person has personal API tokens")
        return self.principal.person_id

    async def get(self) -> None:
        person_id = self.person_id()

        def mine() -> list[dict[str, Any]]:
            with self.ctx.db.session() as sess:
                return list_api_tokens(sess, person_id=person_id)

        self.send_json({"items": await self.run(mine)})

    async def delete(self, token_id: str | None = None) -> None:
        person_id = self.person_id()

        def revoke() -> list[int]:
            with self.ctx.db.session(write=True) as sess:
                ids = revoke_api_tokens(sess, person_id=person_id, token_id=int(token_id) if token_id else None)
            if token_id and not ids:
                raise NotFoundError(f"you have no token {token_id}")
            return ids

        self.send_json({"revoked": await self.run(revoke)})
