"""A month of demo history: the previous calendar month's tickets on the demo contracts.

Loaded by `load_demo` once the contracts exist. The month is the one before `now` in the first demo
contract's zone, so the demo works whenever it is run. A dozen tickets are opened, worked and
resolved through the ticket use cases, at business-plausible instants: on business days of the
biz-fr calendar, spread over the month. Most meet their clocks; a few breach (GTI and GTR, one GTR
by a couple of hours after a pause for the client); finance waives one breach with a reason; the
technician records a 2-hour outage. The sweep then runs as of the end of that month and as of
`now`, so the breaches exist at their true instants, and closing that month at once drafts credit
notes with breach lines and an availability line.

A second run adds nothing: the history is recognised by its first ticket's title on the demo shop
contract (`HISTORY_MARKER`), whatever month it was loaded for.

Everything is flushed, never committed; the caller commits once.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.contracts.models import Contract, Metric
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import sweep_batch, waive_breach
from helpdesk.extensions import db
from helpdesk.month import Month
from helpdesk.sla.calendar import Calendar
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.outages import record_outage

logger = logging.getLogger(__name__)

SHOP, ATELIER = "CT-2026-001", "CT-2026-002"
# Who acts in the stories, by the e-mail of their demo account.
PEOPLE = {"client": "client@example.com", "other-client": "other-client@example.com",
          "tech": "tech@example.com", "lead": "lead@example.com",
          "finance": "finance@example.com"}
HISTORY_MARKER = "Paiement refusé sur la boutique en ligne"
# Business days are chosen among slots 0..SLOTS-1 spread over the month's business days, leaving
# the month's last business day free for a ticket that goes on the next day.
SLOTS = 17


@dataclass(frozen=True)
class Step:
    """Something someone does on the ticket, `day` business days after it was opened."""

    action: str  # a key of ACTIONS
    who: str  # a key of PEOPLE
    time: str  # local wall-clock "HH:MM"
    day: int = 0
    text: str = ""


@dataclass(frozen=True)
class Story:
    """One ticket of the month, from its opening to its resolution."""

    contract: str
    priority: str
    title: str
    description: str
    slot: int  # 0..SLOTS-1: where in the month's business days it was opened
    opened: str  # local wall-clock "HH:MM"
    steps: tuple[Step, ...]
    outage: tuple[str, str] | None = None  # local start and end, recorded by the technician
    waive: tuple[Metric, str] | None = None  # the breach finance waives, and why


def _client(contract: str) -> str:
    return "client" if contract == SHOP else "other-client"


STORIES: tuple[Story, ...] = (
    Story(SHOP, "P2", HISTORY_MARKER,
          "Depuis ce matin, certains paiements par carte sont refusés alors que la banque "
          "confirme que les cartes sont valides.", slot=0, opened="09:10", steps=(
              Step("take", "tech", "10:05"),
              Step("reply", "tech", "10:20", text="Le module de paiement renvoie une erreur de "
                   "signature : nous renouvelons la clé avec la banque."),
              Step("resolve", "tech", "14:30"),
              Step("confirm", "client", "16:00"))),
    Story(SHOP, "P3", "Modifier le texte de la page d'accueil",
          "Merci de remplacer le bandeau des soldes par celui de la nouvelle collection (texte "
          "joint).", slot=1, opened="10:20", steps=(
              Step("reply", "tech", "14:00", text="C'est noté, la modification est en ligne "
                   "dans l'heure."),
              Step("resolve", "tech", "14:45"))),
    Story(SHOP, "P1", "Site inaccessible : erreur 502",
          "La boutique affiche une erreur 502 pour tous les visiteurs.", slot=2, opened="09:15",
          steps=(
              Step("take", "tech", "09:40"),
              Step("reply", "tech", "09:45", text="Le serveur d'application ne répond plus ; "
                   "redémarrage en cours."),
              Step("resolve", "tech", "11:20")),
          outage=("09:15", "11:15")),
    Story(ATELIER, "P2", "Mettre à jour les horaires d'ouverture",
          "Nouveaux horaires à partir de lundi : 9 h – 18 h du mardi au samedi.", slot=3,
          opened="10:00", steps=(
              Step("take", "tech", "16:00"),
              Step("resolve", "tech", "10:00", day=1),
              Step("confirm", "other-client", "11:30", day=1))),
    Story(SHOP, "P1", "Commandes bloquées à l'étape du paiement",
          "Les clients ne peuvent plus valider leur panier depuis 17 h 15.", slot=4,
          opened="17:30", steps=(
              Step("take", "tech", "20:10"),
              Step("resolve", "tech", "21:00"))),  # GTI due 19:30: breached
    Story(SHOP, "P1", "Catalogue produits vide",
          "Plus aucun produit n'apparaît dans le catalogue depuis l'import de cette nuit.",
          slot=6, opened="08:30", steps=(
              Step("take", "tech", "09:00"),
              Step("wait", "tech", "11:00"),
              Step("reply", "client", "12:00", text="Voici le fichier d'import d'origine."),
              Step("resolve", "tech", "19:45"))),  # GTR due 17:30 after the pause: 2 h 15 late
    Story(SHOP, "P2", "Lenteurs sur le back-office",
          "Le back-office met plus de 10 secondes à afficher la liste des commandes.", slot=8,
          opened="14:00", steps=(
              Step("take", "lead", "15:30"),
              Step("resolve", "lead", "11:00", day=1),
              Step("confirm", "client", "14:00", day=1))),
    Story(SHOP, "P2", "Export comptable en erreur",
          "L'export mensuel vers le logiciel comptable s'arrête sur une erreur d'encodage.",
          slot=10, opened="09:00", steps=(
              Step("take", "tech", "15:30"),
              Step("resolve", "tech", "17:00")),
          waive=(Metric.GTI, "Le client a demandé par téléphone que l'export ne soit traité "
                             "qu'après sa réunion de 15 h : le retard ne nous est pas imputable.")),
    Story(ATELIER, "P1", "Formulaire de contact hors service",
          "Le formulaire de contact renvoie une page blanche après l'envoi.", slot=11,
          opened="14:00", steps=(
              Step("take", "tech", "09:15", day=1),
              Step("resolve", "tech", "12:00", day=1))),  # GTI due 18:00: breached
    Story(SHOP, "P3", "Ajouter un compte au back-office",
          "Merci de créer un compte pour notre nouvelle vendeuse.", slot=12, opened="11:00",
          steps=(
              Step("take", "tech", "15:00"),
              Step("resolve", "tech", "15:20"))),
    Story(SHOP, "P3", "Question sur les frais de port",
          "Les frais de port affichés pour la Belgique semblent faux.", slot=14, opened="09:30",
          steps=(
              Step("take", "tech", "10:30", day=1),
              Step("resolve", "tech", "11:15", day=1))),  # GTI due 17:30: breached
    Story(ATELIER, "P1", "Certificat HTTPS expiré",
          "Le navigateur signale que le site n'est pas sécurisé.", slot=16, opened="08:45",
          steps=(
              Step("take", "tech", "09:30"),
              Step("resolve", "tech", "10:30"),
              Step("reopen", "other-client", "14:00",
                   text="L'alerte apparaît toujours sur mobile."),
              Step("take", "tech", "14:20"),
              Step("resolve", "tech", "15:00"))),
)


@dataclass
class HistoryReport:
    """What loading the history did, for printing."""

    month: str
    tickets: int = 0
    breaches: int = 0
    waived: int = 0
    outages: int = 0
    skipped: str = ""

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"history: {self.skipped}"]
        return [f"history of {self.month}: {self.tickets} tickets, {self.breaches} breaches "
                f"({self.waived} waived), outages: {self.outages}; close the month with "
                f"`flask billing close --month {self.month}`"]


def business_days(month: Month, calendar: Calendar) -> list[date]:
    """The days of `month` on which `calendar` is open at noon (weekdays that are no holiday)."""
    zone = ZoneInfo(calendar.timezone)
    return [day for day in month.days()
            if calendar.is_open(datetime(day.year, day.month, day.day, 12, tzinfo=zone))]


def _already_loaded(shop: Contract) -> bool:
    return db.session.scalar(sa.select(Ticket.id).where(
        Ticket.contract_id == shop.id, Ticket.title == HISTORY_MARKER).limit(1)) is not None


def sweep_until(at: datetime) -> None:
    """Record every threshold and breach due by `at`, batch after batch, as `run_sweep` does."""
    seen: set[int] = set()
    while (summary := sweep_batch(now=at)).tickets:
        if seen.issuperset(summary.ticket_ids):
            logger.error("demo sweep as of %s keeps finding the same tickets; stopping", at)
            break
        seen.update(summary.ticket_ids)


class _Month:
    """Local wall-clock instants on the month's business days."""

    def __init__(self, month: Month, calendar: Calendar) -> None:
        self.zone = ZoneInfo(calendar.timezone)
        self.days = business_days(month, calendar)

    def day(self, slot: int, after: int = 0) -> date:
        return self.days[slot * (len(self.days) - 2) // (SLOTS - 1) + after]

    def at(self, day: date, clock: str) -> datetime:
        hour, minute = (int(part) for part in clock.split(":"))
        return datetime(day.year, day.month, day.day, hour, minute,
                        tzinfo=self.zone).astimezone(UTC)


# What each step does, through the ticket use cases: (ticket, actor, instant, text).
ACTIONS: dict[str, Callable[[Ticket, User, datetime, str], object]] = {
    "take": lambda ticket, actor, at, _: services.take_ticket(ticket, actor=actor, now=at),
    "reply": lambda ticket, actor, at, text: services.reply_to_ticket(
        ticket, actor=actor, body=text, now=at),
    "wait": lambda ticket, actor, at, _: services.wait_on_client(ticket, actor=actor, now=at),
    "resolve": lambda ticket, actor, at, _: services.resolve_ticket(ticket, actor=actor, now=at),
    "confirm": lambda ticket, actor, at, _: services.confirm_resolution(
        ticket, actor=actor, now=at),
    "reopen": lambda ticket, actor, at, text: services.reopen_ticket(
        ticket, actor=actor, reason=text, now=at),
}


def _play(story: Story, *, contract: Contract, people: dict[str, User], month: _Month,
          report: HistoryReport) -> Ticket:
    """Open and work one ticket."""
    opened_on = month.day(story.slot)
    opened_at = month.at(opened_on, story.opened)
    ticket = services.open_ticket(actor=people[_client(story.contract)], contract=contract,
                                  priority_code=story.priority, title=story.title,
                                  description=story.description, now=opened_at)
    last = opened_at
    for step in story.steps:
        last = month.at(month.day(story.slot, step.day), step.time)
        ACTIONS[step.action](ticket, people[step.who], last, step.text)
    if story.outage is not None:
        start, end = (month.at(opened_on, clock) for clock in story.outage)
        record_outage(ticket, actor=people["tech"], started_at=start, ended_at=end, now=last)
        report.outages += 1
    report.tickets += 1
    return ticket


def load_demo_history(*, now: datetime) -> HistoryReport:
    """Load the previous month's history on the demo contracts, once. Flushes."""
    contracts = {c.reference: c for c in db.session.scalars(
        sa.select(Contract).where(Contract.reference.in_([SHOP, ATELIER])))}
    shop = contracts[SHOP]
    timezone = shop.current_version.timezone
    # The calendar month before the one `now` falls in, in the contract's zone.
    month = Month.of(now, timezone).previous()
    report = HistoryReport(str(month))
    if _already_loaded(shop):
        report.skipped = "already loaded, nothing added"
        return report
    _, end = month.bounds(timezone)
    if not all(c.is_active_on(month.first_day) for c in contracts.values()):
        report.skipped = f"the demo contracts were not in force in {month}, nothing added"
        return report
    people = {key: db.session.scalar(sa.select(User).where(User.email == email))
              for key, email in PEOPLE.items()}
    business = shop.current_version.priority("P2").calendar.engine()
    days = _Month(month, business)
    ticket_ids: list[int] = []
    waivers: list[tuple[int, Metric, str]] = []
    for story in STORIES:
        ticket = _play(story, contract=contracts[story.contract], people=people, month=days,
                       report=report)
        ticket_ids.append(ticket.id)
        if story.waive is not None:
            waivers.append((ticket.id, *story.waive))
    db.session.flush()

    # The scheduler's work: as of the month's end, then as of now. Finance reviews afterwards.
    sweep_until(end)
    sweep_until(now)
    for ticket_id, metric, reason in waivers:
        breach = db.session.scalar(sa.select(Breach).where(Breach.ticket_id == ticket_id,
                                                           Breach.metric == metric))
        waive_breach(breach, actor=people["finance"], reason=reason, now=now)
        report.waived += 1
    report.breaches = db.session.scalar(sa.select(sa.func.count()).select_from(Breach).where(
        Breach.ticket_id.in_(ticket_ids)))
    logger.info("Demo history of %s: %d tickets, %d breaches, %d waived", month,
                report.tickets, report.breaches, report.waived)
    return report
