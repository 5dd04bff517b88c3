"""Attachment records -> the AttachmentReport messages the agent sends the API."""

from __future__ import annotations

from collections.abc import Iterable

from switchyard.v1 import distribution_pb2 as dpb

from .protocol import AddRequest
from .store import Attachment


def pod_attachment(
    request: AddRequest, interface: str, detached: bool = False
) -> dpb.PodAttachment:
    return dpb.PodAttachment(
        namespace=request.pod_namespace,
        pod=request.pod_name,
        container_id=request.container_id,
        interface=interface,
        ips=[a.address.split("/")[0] for a in request.addresses],
        mode=request.mode,
        detached=detached,
    )


def full_report(attachments: Iterable[Attachment]) -> dpb.AgentMessage:
    report = dpb.AttachmentReport(full=True)
    for attachment in attachments:
        request = attachment.add_request
        if request.pod_name:  # a container without pod identity is nothing the API knows
            report.attachments.append(pod_attachment(request, attachment.vpp_interface))
    return dpb.AgentMessage(attachments=report)


def change_report(request: AddRequest, interface: str, detached: bool) -> dpb.AgentMessage:
    report = dpb.AttachmentReport(attachments=[pod_attachment(request, interface, detached)])
    return dpb.AgentMessage(attachments=report)
