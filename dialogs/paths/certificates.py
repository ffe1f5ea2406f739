"""Certificates: awarded when a rep meets the last step of a path (a picture, drawn by
dialogs.pictures, captioned with its text), checked by managers with /verify."""

from __future__ import annotations

from dialogs.core.context import Ctx
from dialogs.paths.progress import all_progress
from storage.certificates import by_code, certificates_of, issue
from storage.learning import evidence_of

CODE_SHOWN = 40


def award_certificates(ctx: Ctx) -> None:
    """Gives the rep a certificate for every path whose last step they have now met, and sends it as
    a picture whose caption says the same in words."""
    held = certificates_of(ctx.session, ctx.user.id)
    for progress in all_progress(ctx.knowledge, evidence_of(ctx.session, ctx.user.id)):
        path = progress.path
        if not progress.complete or path.id in held:
            continue
        certificate = issue(ctx.session, ctx.user.id, path.id, ctx.user.name)
        if certificate is None:
            continue
        name, title, day = ctx.person(certificate.name, ctx.user.id), path.title.get(ctx.lang), certificate.issued_at.date()
        code = certificate.code
        ctx.show(
            "path_certificate",
            f"certificate-{path.id}.png",
            "certificate",
            {"name": name, "title": title, "day": day.isoformat(), "code": code, "lang": ctx.lang},
            name=name,
            path=title,
            can=path.certificate.get(ctx.lang),
            date=day.isoformat(),
            code=code,
        )


def verify(ctx: Ctx, args: str) -> None:
    """/verify CODE: a manager learns whose certificate a code is, for which path and from when, or
    that no certificate has that code."""
    if not args.strip():
        ctx.say("verify_usage")
        return
    certificate = by_code(ctx.session, args)
    if certificate is None:
        ctx.say("verify_refused", code=args.strip()[:CODE_SHOWN])
        return
    path = ctx.knowledge.paths.get(certificate.path_id)
    ctx.say(
        "verify_genuine",
        code=certificate.code,
        name=ctx.person(certificate.name, certificate.user_id),
        path=path.title.get(ctx.lang) if path else certificate.path_id,
        date=certificate.issued_at.strftime("%Y-%m-%d"),
    )
