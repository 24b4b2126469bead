"""Mail about the account itself: an invitation, a reset link, a changed password, a lock.

Worded when sent, in the owner's language and zone, like escalations. A reset link is built on
BASE_URL, never on the Host of the request that asked for it: a forged Host cannot turn the
mail into a link to someone else's site."""
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask_babel import force_locale, gettext

from helpdesk import mailer
from helpdesk.accounts.models import AccountMail, AccountMailKind, AccountMailState, User
from helpdesk.formatting import duration, format_instant, person_zone
from helpdesk.mailer import Transport, hand_over, new_message

MAIL_LANGUAGES = ("fr", "en")


def mail_language(user: User) -> str:
    return user.language if user.language in MAIL_LANGUAGES else MAIL_LANGUAGES[0]


def reset_path(token: str) -> str:
    return f"/password/reset/{token}"


def invitation_path(token: str) -> str:
    return f"/invitation/{token}"


def _body(mail: AccountMail, *, base_url: str, reset_lifetime: timedelta,
          local: str | None, invitation_ends: str) -> tuple[str, list[str]]:
    user = mail.user
    base = base_url.rstrip("/")
    if mail.kind == AccountMailKind.INVITATION:
        return gettext("Your helpdesk account is ready"), [
            gettext("An account on the helpdesk has been opened for you: %(email)s.",
                    email=user.email),
            "",
            gettext("Choose your password here, before %(until)s:", until=invitation_ends),
            f"{base}{invitation_path(mail.secret or '')}",
            "",
            gettext("The link works once. If you did not expect this mail, ignore it: no "
                    "one can sign in to the account until a password is chosen."),
        ]
    if mail.kind == AccountMailKind.PASSWORD_RESET:
        return gettext("Reset your helpdesk password"), [
            gettext("Someone, probably you, asked to reset the password of your helpdesk "
                    "account (%(email)s).", email=user.email),
            "",
            gettext("Choose a new password here, within %(lifetime)s:",
                    lifetime=duration(reset_lifetime)),
            f"{base}{reset_path(mail.secret or '')}",
            "",
            gettext("The link works once. If you did not ask for it, ignore this mail: your "
                    "password stays as it is."),
        ]
    if mail.kind == AccountMailKind.PASSWORD_CHANGED:
        return gettext("Your helpdesk password was changed"), [
            gettext("The password of your helpdesk account (%(email)s) was changed. Every "
                    "session and API token of the account has been ended.", email=user.email),
            "",
            gettext("If you did not do this, reset your password now and tell your contact at "
                    "the service desk: %(link)s", link=f"{base}/password/forgot"),
        ]
    return gettext("Your helpdesk account is locked for a while"), [
        gettext("After too many failed sign-in attempts on your helpdesk account (%(email)s), "
                "signing in is refused until %(until)s.", email=user.email, until=local),
        "",
        gettext("If these attempts were not yours, someone may be guessing your password: "
                "choose a stronger one once the lock ends, or reset it: %(link)s",
                link=f"{base}/password/forgot"),
    ]


def compose(mail: AccountMail, *, now: datetime, mail_from: str, base_url: str, domain: str,
            reset_lifetime: timedelta, invitation_lifetime: timedelta) -> EmailMessage:
    user = mail.user
    language = mail_language(user)
    zone = person_zone(user.timezone)
    local = None if mail.until is None else format_instant(
        mail.until, "datetime", zone=zone, locale=language)
    # The link was signed when the mail was queued.
    invitation_ends = format_instant(mail.created_at + invitation_lifetime, "datetime",
                                     zone=zone, locale=language)
    with force_locale(language):
        subject, lines = _body(mail, base_url=base_url, reset_lifetime=reset_lifetime,
                               local=local, invitation_ends=invitation_ends)
        lines = [gettext("Hello %(name)s,", name=user.name), "", *lines, "",
                 gettext("— Helpdesk")]
    message = new_message(mail_from=mail_from, to=user.email, subject=subject,
                          body="\n".join(lines), now=now,
                          message_id=f"<account-mail-{mail.id}@{domain}>")
    # Nobody should answer these automatically (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    return message


def claim_next(*, now: datetime) -> AccountMail | None:
    return mailer.claim_next(AccountMail, pending=AccountMailState.PENDING, now=now)


def deliver(mail: AccountMail, transport: Transport, *, now: datetime, mail_from: str,
            base_url: str, domain: str, reset_lifetime: timedelta,
            invitation_lifetime: timedelta) -> bool:
    message = compose(mail, now=now, mail_from=mail_from, base_url=base_url, domain=domain,
                      reset_lifetime=reset_lifetime, invitation_lifetime=invitation_lifetime)
    if not hand_over(mail, message, transport, now=now):
        return False
    mail.state = AccountMailState.SENT
    mail.secret = None
    return True
