"""Today's open tickets of the demo: a queue with something in every state.

Loaded by `load_demo` after the history, at instants relative to `now`, so that the queue shows at
once what the product is for: a P1 overdue, a P1 at risk, a P1 whose GTR runs, a P2 paused while
the client answers, fresh tickets nobody has taken yet. P1 runs on the 24/7 calendar, so its
clocks tick whatever the hour; the business-hours ones count only on working hours.

Loaded once, recognised by its first ticket's title (`QUEUE_MARKER`); then the sweep runs as of
`now`, so thresholds and breaches already crossed are on record. Flushes, never commits.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.contracts.models import Contract
from helpdesk.demo.history import ATELIER, PEOPLE, SHOP, sweep_until
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket

QUEUE_MARKER = "Boutique inaccessible depuis les mobiles"


@dataclass(frozen=True)
class OpenStory:
    contract: str
    priority: str
    title: str
    description: str
    opened_ago: timedelta
    taken_ago: timedelta | None = None  # by the technician
    waiting_ago: timedelta | None = None  # waiting on the client since


OPEN_STORIES: tuple[OpenStory, ...] = (
    OpenStory(SHOP, "P1", QUEUE_MARKER,
              "Sur téléphone, la boutique affiche une page blanche ; sur ordinateur tout va bien.",
              opened_ago=timedelta(hours=2, minutes=40)),  # GTI 2 h: overdue
    OpenStory(ATELIER, "P1", "Prise de rendez-vous en ligne impossible",
              "Le bouton « Réserver » ne fait plus rien depuis la mise à jour d'hier soir.",
              opened_ago=timedelta(hours=3)),
    OpenStory(SHOP, "P1", "Paiements PayPal refusés",
              "Tous les paiements PayPal échouent avec le message « transaction annulée ».",
              opened_ago=timedelta(hours=1, minutes=40)),  # 83 % of the GTI: at risk
    OpenStory(SHOP, "P1", "Base de données saturée",
              "Les pages produits mettent plus de 20 secondes à s'afficher.",
              opened_ago=timedelta(hours=5), taken_ago=timedelta(hours=4, minutes=20)),
    OpenStory(SHOP, "P2", "Images produits floues",
              "Depuis l'import de la nouvelle collection, les photos sont pixelisées.",
              opened_ago=timedelta(minutes=35)),
    OpenStory(SHOP, "P2", "Factures PDF sans logo",
              "Les factures envoyées aux clients n'ont plus notre logo en en-tête.",
              opened_ago=timedelta(days=1), taken_ago=timedelta(hours=20),
              waiting_ago=timedelta(hours=2)),
    OpenStory(SHOP, "P3", "Ajouter un moyen de livraison",
              "Nous souhaitons proposer le retrait en magasin à Cholet.",
              opened_ago=timedelta(minutes=10)),
)


@dataclass
class QueueReport:
    """What loading today's open tickets did, for printing."""

    tickets: int = 0
    skipped: str = ""

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"open tickets: {self.skipped}"]
        return [f"open tickets: {self.tickets} in the queue, opened in the last day"]


def _already_loaded() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                             .where(Ticket.title == QUEUE_MARKER)) > 0


def load_demo_queue(*, now: datetime) -> QueueReport:
    """Open today's demo tickets, once. Flushes."""
    report = QueueReport()
    if _already_loaded():
        report.skipped = "already loaded, nothing added"
        return report
    contracts = {c.reference: c for c in db.session.scalars(
        sa.select(Contract).where(Contract.reference.in_([SHOP, ATELIER])))}
    if not all(c.is_active_at(now) for c in contracts.values()):
        report.skipped = "the demo contracts are not in force today, nothing added"
        return report
    people = {key: db.session.scalar(sa.select(User).where(User.email == email))
              for key, email in PEOPLE.items()}
    for story in OPEN_STORIES:
        client = people["client" if story.contract == SHOP else "other-client"]
        ticket = services.open_ticket(actor=client, contract=contracts[story.contract],
                                      priority_code=story.priority, title=story.title,
                                      description=story.description,
                                      now=now - story.opened_ago)
        if story.taken_ago is not None:
            services.take_ticket(ticket, actor=people["tech"], now=now - story.taken_ago)
        if story.waiting_ago is not None:
            services.reply_to_ticket(ticket, actor=people["tech"], now=now - story.waiting_ago,
                                     body="Pouvez-vous nous envoyer une facture concernée ?")
            services.wait_on_client(ticket, actor=people["tech"], now=now - story.waiting_ago)
        report.tickets += 1
    db.session.flush()
    sweep_until(now)
    return report
