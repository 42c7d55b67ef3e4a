"""GET/POST /api/v1/oai: the OAI-PMH repository (:mod:`nexuslims_kernel.publish.oai`).

Anyone may harvest; what is served is only ever the public, unembargoed records,
whoever asks (a signed-in harvester sees no more than an anonymous one).
"""

from __future__ import annotations

import urllib.parse

from nexuslims_kernel.api.base import BaseHandler


class OaiHandler(BaseHandler):
    """One OAI-PMH request: arguments in the query (GET) or a form body (POST)."""

    def _base(self) -> tuple[str, str]:
        from nexuslims_kernel.api.curation import service_root

        root = service_root(self)
        return root + "/api/v1/oai", root

    async def get(self) -> None:
        await self._answer({k: [v.decode("utf-8", "replace") for v in vs] for k, vs in self.request.query_arguments.items()})

    async def post(self) -> None:
        body = b"".join(self._chunks).decode("utf-8", "replace")
        await self._answer(urllib.parse.parse_qs(body, keep_blank_values=True))

    async def _answer(self, args: dict[str, list[str]]) -> None:
        from nexuslims_kernel.publish.oai import respond

        base, landing = self._base()
        xml = await self.run(self.ctx.db.read, lambda sess: respond(sess, self.ctx.settings, args, base, landing))
        self.set_header("Content-Type", "text/xml; charset=utf-8")
        self.finish(xml)
