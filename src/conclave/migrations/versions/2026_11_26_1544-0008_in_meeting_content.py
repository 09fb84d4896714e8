"""in-meeting content

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-26 15:44:29.530053
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import conclave.kit.db

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "libraries",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_libraries_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_libraries_room_id_rooms"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_libraries")),
    )
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_libraries_project_created", ["project_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_libraries_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_libraries_room_id"), ["room_id"], unique=False)

    op.create_table(
        "quizzes",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("time_limit_seconds", sa.Integer(), nullable=True),
        sa.Column("timing_mode", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('created', 'launched', 'ended')", name=op.f("ck_quizzes_status")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_quizzes_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_quizzes_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes")),
    )
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quizzes_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_quizzes_room_created", ["room_id", "created_at", "id"], unique=False)

    op.create_table(
        "library_files",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("library_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_library_files_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_library_files_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_files")),
    )
    with op.batch_alter_table("library_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_files_library_id"), ["library_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_files_project_id"), ["project_id"], unique=False)

    op.create_table(
        "polls",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("launched_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'launched', 'ended')", name=op.f("ck_polls_status")),
        sa.CheckConstraint("type IN ('single', 'multiple', 'free')", name=op.f("ck_polls_type")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_polls_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_polls_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_polls_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_polls_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_polls_room_created", ["room_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_polls_session_id"), ["session_id"], unique=False)

    op.create_table(
        "quiz_questions",
        sa.Column("quiz_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=512), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_questions_quiz_id_quizzes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_questions")),
    )
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_questions_quiz_id"), ["quiz_id"], unique=False)

    op.create_table(
        "quiz_runs",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("quiz_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('launched', 'ended')", name=op.f("ck_quiz_runs_status")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_quiz_runs_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_runs_quiz_id_quizzes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_quiz_runs_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_quiz_runs_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_runs")),
    )
    with op.batch_alter_table("quiz_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_runs_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quiz_runs_quiz_id"), ["quiz_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quiz_runs_session_id"), ["session_id"], unique=False)

    op.create_table(
        "summaries",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('IN_PROGRESS', 'READY', 'FAILED')", name=op.f("ck_summaries_status")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_summaries_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_summaries_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_summaries_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summaries")),
        sa.UniqueConstraint("session_id", name=op.f("uq_summaries_session_id")),
    )
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summaries_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_summaries_room_id"), ["room_id"], unique=False)

    op.create_table(
        "poll_options",
        sa.Column("poll_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=512), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_options_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_options")),
    )
    with op.batch_alter_table("poll_options", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_options_poll_id"), ["poll_id"], unique=False)

    op.create_table(
        "poll_votes",
        sa.Column("poll_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("participant_name", sa.String(length=255), nullable=True),
        sa.Column(
            "option_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_poll_votes_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_votes_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint("poll_id", "participant_id", name=op.f("uq_poll_votes_poll_id_participant_id")),
    )
    with op.batch_alter_table("poll_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_votes_poll_id"), ["poll_id"], unique=False)

    op.create_table(
        "qa_questions",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("participant_id", sa.String(length=36), nullable=True),
        sa.Column("participant_name", sa.String(length=255), nullable=True),
        sa.Column("external_participant_id", sa.String(length=255), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("breakout_id", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("live_answer_status", sa.String(length=16), nullable=True),
        sa.Column("live_answer_by", sa.String(length=255), nullable=True),
        sa.Column("vote_count", sa.Integer(), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('open', 'dismissed')", name=op.f("ck_qa_questions_status")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_qa_questions_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_qa_questions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_qa_questions_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_qa_questions_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_questions")),
    )
    with op.batch_alter_table("qa_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_questions_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_qa_questions_room_created", ["room_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_questions_session_id"), ["session_id"], unique=False)

    op.create_table(
        "quiz_choices",
        sa.Column("question_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=512), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_quiz_choices_question_id_quiz_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_choices")),
    )
    with op.batch_alter_table("quiz_choices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_choices_question_id"), ["question_id"], unique=False)

    op.create_table(
        "quiz_responses",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("participant_name", sa.String(length=255), nullable=True),
        sa.Column(
            "choice_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_quiz_responses_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_quiz_responses_question_id_quiz_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["quiz_runs.id"], name=op.f("fk_quiz_responses_run_id_quiz_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_responses")),
        sa.UniqueConstraint(
            "run_id",
            "question_id",
            "participant_id",
            name=op.f("uq_quiz_responses_run_id_question_id_participant_id"),
        ),
    )
    with op.batch_alter_table("quiz_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_responses_run_id"), ["run_id"], unique=False)

    op.create_table(
        "transcript_segments",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=True),
        sa.Column("participant_name", sa.String(length=255), nullable=True),
        sa.Column("speaker_id", sa.String(length=36), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("start_time", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_time", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_transcript_segments_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_transcript_segments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_transcript_segments_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_transcript_segments_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_segments")),
    )
    with op.batch_alter_table("transcript_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcript_segments_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            "ix_transcript_segments_room_created", ["room_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transcript_segments_session_id"), ["session_id"], unique=False)

    op.create_table(
        "qa_answers",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=True),
        sa.Column("participant_name", sa.String(length=255), nullable=True),
        sa.Column("external_participant_id", sa.String(length=255), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_qa_answers_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_qa_answers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_answers_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_answers")),
    )
    with op.batch_alter_table("qa_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_answers_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_answers_question_id"), ["question_id"], unique=False)

    op.create_table(
        "qa_votes",
        sa.Column("question_id", sa.String(length=36), nullable=False),
        sa.Column("voter", sa.String(length=300), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_qa_votes_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qa_questions.id"],
            name=op.f("fk_qa_votes_question_id_qa_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_votes")),
        sa.UniqueConstraint("question_id", "voter", name=op.f("uq_qa_votes_question_id_voter")),
    )


def downgrade() -> None:

    op.drop_table("qa_votes")
    with op.batch_alter_table("qa_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_answers_question_id"))
        batch_op.drop_index(batch_op.f("ix_qa_answers_project_id"))

    op.drop_table("qa_answers")
    with op.batch_alter_table("transcript_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_segments_session_id"))
        batch_op.drop_index("ix_transcript_segments_room_created")
        batch_op.drop_index(batch_op.f("ix_transcript_segments_project_id"))

    op.drop_table("transcript_segments")
    with op.batch_alter_table("quiz_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_responses_run_id"))

    op.drop_table("quiz_responses")
    with op.batch_alter_table("quiz_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_choices_question_id"))

    op.drop_table("quiz_choices")
    with op.batch_alter_table("qa_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_questions_session_id"))
        batch_op.drop_index("ix_qa_questions_room_created")
        batch_op.drop_index(batch_op.f("ix_qa_questions_project_id"))

    op.drop_table("qa_questions")
    with op.batch_alter_table("poll_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_votes_poll_id"))

    op.drop_table("poll_votes")
    with op.batch_alter_table("poll_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_options_poll_id"))

    op.drop_table("poll_options")
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summaries_room_id"))
        batch_op.drop_index(batch_op.f("ix_summaries_project_id"))

    op.drop_table("summaries")
    with op.batch_alter_table("quiz_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_runs_session_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_runs_quiz_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_runs_project_id"))

    op.drop_table("quiz_runs")
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_questions_quiz_id"))

    op.drop_table("quiz_questions")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_polls_session_id"))
        batch_op.drop_index("ix_polls_room_created")
        batch_op.drop_index(batch_op.f("ix_polls_project_id"))

    op.drop_table("polls")
    with op.batch_alter_table("library_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_files_project_id"))
        batch_op.drop_index(batch_op.f("ix_library_files_library_id"))

    op.drop_table("library_files")
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_index("ix_quizzes_room_created")
        batch_op.drop_index(batch_op.f("ix_quizzes_project_id"))

    op.drop_table("quizzes")
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_libraries_room_id"))
        batch_op.drop_index(batch_op.f("ix_libraries_project_id"))
        batch_op.drop_index("ix_libraries_project_created")

    op.drop_table("libraries")
