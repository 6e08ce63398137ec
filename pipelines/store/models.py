"""Relational schema. Changes go through an Alembic revision in pipelines/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Workspace(Base):
    """One municipality. Nothing of one workspace is visible in another."""

    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Chat logs older than this many days are deleted or anonymised (None: the installation's
    # setting CHATWERKSTATT_LOG_RETENTION_DAYS); mode "delete" or "anonymise".
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retention_mode: Mapped[str | None] = mapped_column(String(20), nullable=True)


class Bot(Base):
    __tablename__ = "bots"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    versions: Mapped[list[BotVersion]] = relationship(
        back_populates="bot", cascade="all, delete-orphan", order_by="BotVersion.version"
    )


class BotVersion(Base):
    """An immutable snapshot of a bot's configuration (the pydantic BotConfig as JSON)."""

    __tablename__ = "bot_versions"
    __table_args__ = (UniqueConstraint("bot_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    bot: Mapped[Bot] = relationship(back_populates="versions")


class KnowledgeBase(Base):
    __tablename__ = "knowledge_bases"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    table_name: Mapped[str] = mapped_column(String(200), unique=True)
    embedding_model: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Document(Base):
    """Registry of one ingested file; its chunks live in the knowledge base's LanceDB table."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("knowledge_base_id", "source_path"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    knowledge_base_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE")
    )
    doc_key: Mapped[str] = mapped_column(String(64), index=True)
    source_path: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(300))
    file_type: Mapped[str] = mapped_column(String(20))
    content_hash: Mapped[str] = mapped_column(String(64))
    # How the file was read, chunked and embedded; a different value means "index it again".
    pipeline: Mapped[str | None] = mapped_column(String(200), nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    bot_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(30), default="cli")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Generated by `python -m pipelines demo-logs`, never a citizen's conversation.
    synthetic: Mapped[bool] = mapped_column(default=False)
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id"
    )


class Message(Base):
    """One turn: the question and the reply with everything analytics needs."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    question: Mapped[str] = mapped_column(Text)
    # The question as searched: a follow-up joined with its topic or rewritten by the LLM.
    search_query: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    mode: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    no_answer: Mapped[bool] = mapped_column(default=False)
    # The turn offered or started the handoff to a person, and why (pipelines.handoff.Reason).
    handoff: Mapped[bool] = mapped_column(default=False)
    handoff_reason: Mapped[str | None] = mapped_column(String(30), nullable=True)
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Milliseconds per step; also "schwaerzungen": how many personal-data spans were redacted
    # from question and answer (question, search_query and answer are stored redacted).
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The curated answer served (mode "kuratiert"); None for every other turn.
    curated_answer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class User(Base):
    """A member of staff. Password users have an argon2 hash; OIDC users a subject instead."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(300), nullable=True, unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Membership(Base):
    """A user's role in one workspace: admin, editor, analyst or evaluator."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(back_populates="memberships")


class Feedback(Base):
    """Thumbs up (+1) or down (-1) on one answer, with an optional comment."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ticket(Base):
    """A conversation handed to a person: routed to an office (Amt), worked on by clerks.

    Question and transcript are copies of the (redacted) chat log, so a ticket stays readable
    when the log is anonymised. The contact address is kept only until the ticket is closed.
    """

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    bot_id: Mapped[int | None] = mapped_column(ForeignKey("bots.id", ondelete="SET NULL"),
                                               nullable=True)
    bot_version: Mapped[int] = mapped_column(Integer, default=0)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    # offen, in_bearbeitung, beantwortet, geschlossen
    status: Mapped[str] = mapped_column(String(20), default="offen", index=True)
    reason: Mapped[str] = mapped_column(String(30))
    office_key: Mapped[str] = mapped_column(String(80))
    office_name: Mapped[str] = mapped_column(String(200))
    office_email: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="de")
    question: Mapped[str] = mapped_column(Text)
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    contact_email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    assigned_to: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketEvent.id"
    )


class TicketEvent(Base):
    """The audit trail of a ticket: who did what, when."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class CuratedAnswer(Base):
    """An answer written or approved by staff, served before the documents are searched.

    `bot_slug` None: for every bot of the workspace. `questions` holds the phrasings it
    answers; `hits` counts how often it was served.
    """

    __tablename__ = "curated_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    bot_slug: Mapped[str | None] = mapped_column(String(80), nullable=True)
    questions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(1000), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)



class TestSet(Base):
    """Questions with what a good answer looks like, for one bot or the whole workspace."""

    __test__ = False  # a table, not a pytest test class
    __tablename__ = "testsets"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    # None: usable with every bot of the workspace.
    bot_slug: Mapped[str | None] = mapped_column(String(80), nullable=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    items: Mapped[list[TestSetItem]] = relationship(
        back_populates="testset", cascade="all, delete-orphan", order_by="TestSetItem.position"
    )


class TestSetItem(Base):
    """One question of a test set. `status` "aktiv" items are run; "entwurf" (generated, not
    yet accepted) and "abgelehnt" are not."""

    __test__ = False
    __tablename__ = "testset_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    testset_id: Mapped[int] = mapped_column(
        ForeignKey("testsets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(Text)
    expected_answer: Mapped[str] = mapped_column(Text, default="")
    expected_source: Mapped[str] = mapped_column(String(1000), default="")
    also_sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(20), default="answerable")
    status: Mapped[str] = mapped_column(String(20), default="aktiv")
    origin: Mapped[str] = mapped_column(String(40), default="manuell")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    testset: Mapped[TestSet] = relationship(back_populates="items")


class EvalRun(Base):
    """A test set answered by one bot version; `summary` holds the aggregated metrics."""

    __tablename__ = "eval_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    testset_id: Mapped[int | None] = mapped_column(
        ForeignKey("testsets.id", ondelete="SET NULL"), nullable=True, index=True
    )
    testset_name: Mapped[str] = mapped_column(String(120))
    bot_slug: Mapped[str] = mapped_column(String(80))
    bot_version: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200), default="")
    answer_mode: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(20), default="laeuft")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    results: Mapped[list[EvalResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="EvalResult.id"
    )


class EvalResult(Base):
    """One item's answer in a run, with its sources, timings and per-item metrics."""

    __tablename__ = "eval_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"),
                                        index=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("testset_items.id", ondelete="SET NULL"), nullable=True
    )
    item_key: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    answer: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(20), default="")
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    retrieved: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    run: Mapped[EvalRun] = relationship(back_populates="results")


class HumanScore(Base):
    """An evaluator's rubric scores (1–5 per dimension) for one answer of a run."""

    __tablename__ = "human_scores"
    __table_args__ = (UniqueConstraint("result_id", "evaluator"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("eval_results.id", ondelete="CASCADE"),
                                           index=True)
    evaluator: Mapped[str] = mapped_column(String(120))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PairwiseVote(Base):
    """A blind comparison of two runs' answers to one item; `left_run_id` is the run shown on
    the left (sides are drawn at random), `choice` "links", "rechts" or "gleich"."""

    __tablename__ = "pairwise_votes"
    __table_args__ = (UniqueConstraint("run_a_id", "run_b_id", "item_key", "evaluator"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_a_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"),
                                          index=True)
    run_b_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(120))
    evaluator: Mapped[str] = mapped_column(String(120))
    left_run_id: Mapped[int] = mapped_column(Integer)
    choice: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvalAssignment(Base):
    """Which evaluator is to score which item of a run."""

    __tablename__ = "eval_assignments"
    __table_args__ = (UniqueConstraint("result_id", "evaluator"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("eval_results.id", ondelete="CASCADE"),
                                           index=True)
    evaluator: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConnectorSource(Base):
    """A website, CKAN portal or FAQ list feeding one bot's knowledge base (pipelines.connectors).

    `settings` is the connector's settings model as JSON; `refresh_hours` None means no
    scheduled refresh; `last_report` the SourceReport of the last run as JSON."""

    __tablename__ = "connector_sources"
    __table_args__ = (UniqueConstraint("workspace_id", "bot_slug", "kind", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    bot_slug: Mapped[str] = mapped_column(String(80))
    knowledge_base: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(2000))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    refresh_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[str] = mapped_column(String(20), default="")
    last_report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    items: Mapped[list[ConnectorItem]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="ConnectorItem.id"
    )


class ConnectorItem(Base):
    """One page or dataset of a source, with what re-fetching needs: validators (ETag,
    Last-Modified), the hash of the extracted content, CKAN's metadata_modified, the links
    found on the page (so a crawl goes on through pages answered 304) and, in `extra`,
    e.g. the tables loaded from a dataset's resources."""

    __tablename__ = "connector_items"
    __table_args__ = (UniqueConstraint("source_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("connector_sources.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(2000))
    url: Mapped[str] = mapped_column(String(2000), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    # Document.source_path of the document it became ("" while none).
    document_path: Mapped[str] = mapped_column(String(1000), default="")
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    modified: Mapped[str] = mapped_column(String(60), default="")
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source: Mapped[ConnectorSource] = relationship(back_populates="items")


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def row_in_workspace(session: Session, model: Any, key: Any, workspace: str,
                     missing: Exception) -> Any:
    """Row `key` of `model` (a table with `workspace_id`) when it belongs to `workspace`;
    raises `missing` both when it does not exist and when it is another workspace's (which
    must not show)."""
    row = session.scalar(
        select(model).join(Workspace, Workspace.id == model.workspace_id)
        .where(model.id == key, Workspace.slug == workspace))
    if row is None:
        raise missing
    return row
