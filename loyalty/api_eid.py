"""Thin API classes of the eID channel: staff arm scans, reader devices pick them up."""

from __future__ import annotations

import secrets
import threading
import time

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInputMixin
from core.cache import cache_delete, cache_get, cache_set
from core.errors import InvalidInput, NoticeMissing, ScanNotFound
from core.inputs import INT32_MAX, plain_int
from loyalty import eid_services, selectors, services
from loyalty.api import StoreCodeField
from loyalty.models import EidScan, FoundBy, ReadKind, ReadMethod
from loyalty.purposes import Purpose
from privacy.models import NoticeVersion
from stores.access import Action, staff_access_for_request
from stores.authentication import DeviceTokenAuthentication, IsReaderDevice
from stores.models import CustomerLanguage, ReaderDevice


class ScanOutputSerializer(serializers.ModelSerializer):
    scan_id = serializers.UUIDField(source="id")
    store = serializers.CharField(source="store.code")
    member = serializers.SerializerMethodField()

    class Meta:
        model = EidScan
        fields = [
            "scan_id",
            "store",
            "device_id",
            "state",
            "expires_at",
            "member",
            "member_created",
            "anonymous",
            "guardian_consent",
            "read_method",
            "failure_code",
        ]

    @extend_schema_field(
        inline_serializer(
            "ScanMember",
            {
                "reference": serializers.CharField(
                    help_text="The member reference for this visit's other counter calls."
                ),
                "number": serializers.CharField(),
                "given_name": serializers.CharField(),
            },
        )
    )
    def get_member(self, scan: EidScan) -> dict | None:
        if scan.member is None:
            return None
        return {
            "reference": self.context["references"].get(scan.member_id),
            "number": scan.member.number,
            "given_name": scan.member.given_name,
        }


def scan_output(scan: EidScan, *, request) -> dict:
    """Render a scan for the staff member at its counter; a recognised member comes with a
    reference (found by eID) and the read is recorded."""
    references = {}
    # Only the staff member who armed the scan, for whom the customer presented the card.
    if scan.member is not None and scan.staff_id == request.user.pk:
        store = scan.store
        services.member_reads_record(
            members=[scan.member],
            staff=request.user,
            store=store,
            found_by=FoundBy.EID,
            kind=ReadKind.LOOKUP,
        )
        references = services.member_references_issue(
            members=[scan.member],
            staff=request.user,
            store=store,
            found_by=FoundBy.EID,
            found_at=scan.finished_at,
        )
    return ScanOutputSerializer(scan, context={"references": references}).data


@extend_schema_field(
    {"type": "boolean", "enum": [True], "description": "The customer agreed: always true."}
)
class ConsentGivenField(serializers.BooleanField):
    pass


class EidScanArmApi(APIView):
    """Record the customer's consent to reading their eID and arm a reader for the card."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        store = StoreCodeField()
        device = serializers.IntegerField(min_value=1, max_value=INT32_MAX)
        notice_language = serializers.ChoiceField(choices=CustomerLanguage.choices)
        notice_version = serializers.IntegerField(
            min_value=1, required=False, help_text="The notice version shown (default: current)."
        )
        consent_given = ConsentGivenField()
        link_member = serializers.CharField(
            max_length=100,
            required=False,
            help_text="The member reference of the member whose renewed card this is.",
        )
        anonymous = serializers.BooleanField(
            default=False,
            help_text="Know the member by the card's keyed hash only: no name read or kept.",
        )
        guardian_consent = serializers.BooleanField(
            default=False,
            help_text="A parent or guardian gave the consent (needed for a child's card).",
        )

        def validate_consent_given(self, value: bool) -> bool:
            if not value:
                raise serializers.ValidationError(
                    _("The card is read only after the customer agreed; otherwise use the form.")
                )
            return value

    @extend_schema(request=InputSerializer, responses={201: ScanOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        access = staff_access_for_request(request)
        store = access.store(data.validated_data["store"], Action.EID_SCAN)
        device = ReaderDevice.objects.filter(
            store=store, pk=data.validated_data["device"], revoked_at__isnull=True
        ).first()
        if device is None:
            raise ScanNotFound(_("No active reader with this id in this store."))
        link_member = None
        if "link_member" in data.validated_data:
            link_member, _reference = selectors.member_by_reference(
                access=access,
                store=store,
                reference=data.validated_data["link_member"],
                action=Action.EID_SCAN,
            )
        notice = None
        if "notice_version" in data.validated_data:
            notice = NoticeVersion.objects.filter(
                purpose=Purpose.EID_RECOGNITION,
                language=data.validated_data["notice_language"],
                version=data.validated_data["notice_version"],
            ).first()
            if notice is None:
                raise NoticeMissing()
        scan = eid_services.eid_scan_arm(
            store=store,
            device=device,
            staff=request.user,
            notice_language=data.validated_data["notice_language"],
            notice=notice,
            link_member=link_member,
            anonymous=data.validated_data["anonymous"],
            guardian_consent=data.validated_data["guardian_consent"],
        )
        return Response(scan_output(scan, request=request), status=status.HTTP_201_CREATED)


def _scan_for_staff(request, scan_id) -> EidScan:
    access = staff_access_for_request(request)
    scan = (
        EidScan.objects.select_related("store", "member")
        .filter(pk=scan_id, store__in=access.stores(Action.EID_SCAN))
        .first()
    )
    if scan is None:
        raise ScanNotFound()
    return scan


class EidScanDetailApi(APIView):
    """Show a scan's state to the staff waiting for it at the counter."""

    @extend_schema(responses={200: ScanOutputSerializer})
    def get(self, request, scan_id):
        return Response(scan_output(_scan_for_staff(request, scan_id), request=request))


ERROR_BODY = inline_serializer(
    "EidError",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "details": serializers.DictField(),
    },
)


class EidScanCancelApi(APIView):
    """Disarm a scan that waits for its card: the reader will not read any card for it.

    Cancelling a scan already cancelled answers 200 again. Errors: `scan_not_found` (404: no
    such scan in the caller's stores), `scan_not_waiting` (409: the card was already read, or
    the scan failed or expired).
    """

    @extend_schema(
        request=None,
        responses={
            200: ScanOutputSerializer,
            404: OpenApiResponse(ERROR_BODY, description="scan_not_found"),
            409: OpenApiResponse(ERROR_BODY, description="scan_not_waiting"),
        },
    )
    def post(self, request, scan_id):
        scan = eid_services.eid_scan_cancel(scan=_scan_for_staff(request, scan_id))
        return Response(scan_output(scan, request=request))


class DeviceApi(APIView):
    """Base of the reader-device endpoints: device token only, no staff session."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsReaderDevice]


# The most a reader may ask to wait (it is then served EID_DEVICE_POLL_MAX_SECONDS at most).
MAX_WAIT_ASKED = 3600
# How often a waiting reader looks at the cache for its scan, and at the database at the least
# (a scan armed while the cache was down, or in another process without a shared cache).
POLL_INTERVAL = 0.25
POLL_DATABASE_EVERY = 2.0


class _PollSlots:
    """The reader waits this process holds at once, at most EID_DEVICE_POLL_SLOTS.

    A wait holds a web thread; the cap keeps the others for the cashiers, however many readers
    a shop plugs in (issue 17: twelve waits held every thread of a two-worker server).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    def take(self) -> bool:
        with self._lock:
            if self.taken >= settings.EID_DEVICE_POLL_SLOTS:
                return False
            self.taken += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.taken -= 1


poll_slots = _PollSlots()


class DeviceScanNextApi(DeviceApi):
    """Long-poll for the scan staff armed for this reader; 204 when none came in time.

    A 204 with `Retry-After` means the server holds all the waits it serves at once
    (EID_DEVICE_POLL_SLOTS per process): ask again after that many seconds. A newer wait of
    the same reader (an agent restarted, a second copy of it) ends the older one, which then
    answers 204 without handing anything out.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "wait",
                {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_ASKED},
                description="Seconds to wait; the server waits at most "
                "EID_DEVICE_POLL_MAX_SECONDS (20).",
            )
        ],
        responses={
            200: inline_serializer(
                "ArmedScan",
                {
                    "scan_id": serializers.UUIDField(),
                    "expires_at": serializers.DateTimeField(),
                    "anonymous": serializers.BooleanField(),
                },
            ),
            204: None,
        },
    )
    def get(self, request):
        wait = plain_int(request.query_params.get("wait", 0), maximum=MAX_WAIT_ASKED)
        if wait is None:
            raise InvalidInput(
                details={"wait": [f"A whole number of seconds, 0 to {MAX_WAIT_ASKED}."]}
            )
        device = request.auth
        scan = eid_services.eid_scan_pick_up(device=device)
        if scan is not None:
            return Response(armed_scan_output(scan))
        seconds = max(0, min(wait, settings.EID_DEVICE_POLL_MAX_SECONDS))
        if seconds == 0:
            return Response(status=status.HTTP_204_NO_CONTENT)
        if not poll_slots.take():
            busy = Response(status=status.HTTP_204_NO_CONTENT)
            busy["Retry-After"] = str(settings.EID_DEVICE_POLL_BUSY_SECONDS)
            return busy
        try:
            return self._wait(device, time.monotonic() + seconds)
        finally:
            poll_slots.give_back()

    def _wait(self, device: ReaderDevice, deadline: float) -> Response:
        key = f"eid:poll:{device.pk}"
        mine = secrets.token_hex(8)
        cache_set(key, mine, settings.EID_DEVICE_POLL_MAX_SECONDS + 5)
        armed_key = eid_services.eid_armed_key(device.pk)
        looked = time.monotonic()
        try:
            while time.monotonic() < deadline:
                time.sleep(POLL_INTERVAL)
                current = cache_get(key)
                if current is not None and current != mine:
                    break  # a newer wait of this reader took over
                if not cache_get(armed_key) and time.monotonic() - looked < POLL_DATABASE_EVERY:
                    continue
                cache_delete(armed_key)
                looked = time.monotonic()
                scan = eid_services.eid_scan_pick_up(device=device)
                if scan is not None:
                    return Response(armed_scan_output(scan))
            return Response(status=status.HTTP_204_NO_CONTENT)
        finally:
            if cache_get(key) == mine:
                cache_delete(key)


def armed_scan_output(scan: EidScan) -> dict:
    return {"scan_id": str(scan.pk), "expires_at": scan.expires_at, "anonymous": scan.anonymous}


class DeviceScanStateApi(DeviceApi):
    """Tell the reader whether the scan it waits a card for still stands (armed) or not."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "DeviceScanState",
                {"scan_id": serializers.UUIDField(), "state": serializers.CharField()},
            )
        }
    )
    def get(self, request, scan_id):
        state = eid_services.eid_scan_state_for_device(scan_id=scan_id, device=request.auth)
        return Response({"scan_id": str(scan_id), "state": state})


class DeviceScanReadApi(DeviceApi):
    """Let the reader read the card in it now, once, for this scan.

    Errors (409): `scan_cancelled`, `scan_expired`, `scan_already_read`: do not read.
    """

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "DeviceScanRead",
                {"scan_id": serializers.UUIDField(), "anonymous": serializers.BooleanField()},
            ),
            409: OpenApiResponse(
                ERROR_BODY, description="scan_cancelled, scan_expired or scan_already_read"
            ),
        },
    )
    def post(self, request, scan_id):
        scan = eid_services.eid_scan_read_claim(scan_id=scan_id, device=request.auth)
        return Response({"scan_id": str(scan.pk), "anonymous": scan.anonymous})


class DeviceScanResultApi(DeviceApi):
    """Take the minimised result of a card read: surname, given names and the eID token."""

    class OutputSerializer(serializers.Serializer):
        member = serializers.DictField()
        created = serializers.BooleanField()

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        """What a reader sends; eid_scan_complete's minimisation filter checks it, key by key."""

        surname = serializers.CharField(
            required=False, help_text="Up to 110 bytes of UTF-8; absent if anonymous."
        )
        given_names = serializers.CharField(
            required=False, help_text="Up to 95 bytes of UTF-8; absent if anonymous."
        )
        eid_token = serializers.RegexField(
            r"^[0-9a-f]{64}$", help_text="The agent's keyed hash of the card number."
        )
        read_method = serializers.ChoiceField(choices=ReadMethod.choices)
        child_card = serializers.BooleanField(
            help_text="Document type 6 or 61-69 (a child's card)."
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                ERROR_BODY,
                description="invalid_input, forbidden_personal_field, eid_name_too_long",
            ),
            409: OpenApiResponse(
                ERROR_BODY,
                description=(
                    "scan_expired, scan_cancelled, eid_card_linked_elsewhere, "
                    "eid_guardian_consent_needed"
                ),
            ),
        },
    )
    def post(self, request, scan_id):
        scan = eid_services.eid_scan_complete(
            scan_id=scan_id, device=request.auth, payload=request.data
        )
        return Response(
            {
                "member": {
                    "id": scan.member_id,
                    "number": scan.member.number,
                    "given_name": scan.member.given_name,
                },
                "created": scan.member_created,
            }
        )


class DeviceScanFailureApi(DeviceApi):
    """Record why the reader could not read the card."""

    class InputSerializer(StrictInputMixin, serializers.Serializer):
        code = serializers.CharField(max_length=40)
        message = serializers.CharField(max_length=300, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request, scan_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The agent's message is not stored: only the stable code reaches the cashier.
        eid_services.eid_scan_fail(
            scan_id=scan_id, device=request.auth, code=data.validated_data["code"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
