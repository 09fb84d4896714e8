"""Every table, imported in one place so Alembic and the app see the whole schema."""

from conclave.access.models import IssuedToken, Role
from conclave.chat.models import ChatMessage
from conclave.events.models import RoomEvent
from conclave.kit.db import Base
from conclave.kit.jobs import Job
from conclave.libraries.models import Library, LibraryFile
from conclave.polls.models import Poll, PollOption, PollVote
from conclave.qa.models import Answer, Question, QuestionVote
from conclave.quizzes.models import Quiz, QuizChoice, QuizQuestion, QuizResponse, QuizRun
from conclave.recordings.models import Recording, RecordingFile
from conclave.rooms.models import Room, RoomTag
from conclave.scenes.models import Scene
from conclave.sessions.models import Participant, Session
from conclave.tenancy.models import Credential, Organization, Project, ProjectDailyUsage
from conclave.transcripts.models import Summary, TranscriptSegment
from conclave.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Answer",
    "Base",
    "ChatMessage",
    "Credential",
    "IssuedToken",
    "Job",
    "Library",
    "LibraryFile",
    "Organization",
    "Participant",
    "Poll",
    "PollOption",
    "PollVote",
    "Project",
    "ProjectDailyUsage",
    "Question",
    "QuestionVote",
    "Quiz",
    "QuizChoice",
    "QuizQuestion",
    "QuizResponse",
    "QuizRun",
    "Recording",
    "RecordingFile",
    "Role",
    "Room",
    "RoomEvent",
    "RoomTag",
    "Scene",
    "Session",
    "Summary",
    "TranscriptSegment",
    "WebhookDelivery",
    "WebhookEndpoint",
]
