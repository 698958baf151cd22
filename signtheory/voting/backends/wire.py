"""The wire format of the ``processes`` and ``mpi`` backends: message formats, the
byte layout of a worker's slot and of the downlink, and lossless packing of the
messages (see :mod:`signtheory.voting.backends.protocol`)."""

from __future__ import annotations

import os

import numpy as np

from ..._jit import kernel
from ...ops.compressors import pack_signs_into, unpack_signs_into
from ..rounds import (
    FULL,
    MAJORITY,
    MEAN,
    NORM_SCALED,
    SIGN,
)

# message formats
SIGNS, TERNARY, FLOAT = 0, 1, 2
FORMAT_NAMES = {SIGNS: "1-bit signs", TERNARY: "two bit planes", FLOAT: "float64"}
FORMAT_BITS = {SIGNS: 1, TERNARY: 2, FLOAT: 64}

# slot header (int64 words): what a worker reports with each message
H_ROUND, H_STATUS, H_CALLS, H_CLIPS, H_ZEROS, H_PID, H_TEXT = 0, 1, 2, 3, 4, 5, 6
HEADER_WORDS = 8
HEADER_BYTES = 8 * HEADER_WORDS
OK, NONFINITE, ERROR = 0, 1, 2  # worker status
ERROR_TEXT_BYTES = 4096  # room for a worker's error message in its slot

# downlink header (int64 words)
D_ROUND, D_COMMAND = 0, 1
CONTINUE, STOP = 0, 1



def _align(n: int, to: int = 64) -> int:
    return -(-n // to) * to


def uplink_format(msg: int, zero_rule: int) -> int:
    """The format of a worker message (``rounds`` message code, zero-rule code)."""
    if msg == FULL:
        return FLOAT
    if msg == NORM_SCALED or (msg == SIGN and zero_rule == 0):
        return TERNARY  # the zero vector, or sign(0) = 0
    return SIGNS  # stochastic and projected signs never give 0; sign(0) resolved to +-1


def downlink_format(server: int, tie_rule: int) -> int:
    """The format of the server's V (``rounds`` server code, tie-rule code)."""
    if server == MEAN:
        return FLOAT
    if server == MAJORITY and tie_rule == 0:
        return TERNARY
    return SIGNS


def payload_bytes(fmt: int, d: int) -> int:
    if fmt == FLOAT:
        return 8 * d
    planes = 2 if fmt == TERNARY else 1
    return planes * ((d + 7) // 8)


class Layout:
    """Byte layout of a worker slot and of the downlink for n workers in dimension d.

    A slot is ``header (64 B) | message payload | estimator (8 d B, evaluation rounds
    only)``, at least ``header + ERROR_TEXT_BYTES`` long so that an error message fits
    after the header. The downlink is ``header (64 B) | V payload``.
    """

    def __init__(self, n: int, d: int, up: int, down: int):
        self.n, self.d, self.up, self.down = n, d, up, down
        self.up_bytes = payload_bytes(up, d)
        self.down_bytes = payload_bytes(down, d)
        self.est_offset = HEADER_BYTES + _align(self.up_bytes, 8)
        self.message_bytes = HEADER_BYTES + self.up_bytes  # what a round sends, estimator aside
        self.full_bytes = self.est_offset + 8 * d  # with the estimator
        self.slot_bytes = _align(max(self.full_bytes, HEADER_BYTES + ERROR_TEXT_BYTES))
        self.downlink_bytes = _align(HEADER_BYTES + self.down_bytes)


class SlotView:
    """Named views into one worker slot (a uint8 array of ``layout.slot_bytes``)."""

    def __init__(self, buf: np.ndarray, layout: Layout):
        self.buf = buf
        self.header = buf[:HEADER_BYTES].view(np.int64)
        self.payload = buf[HEADER_BYTES:HEADER_BYTES + layout.up_bytes]
        self.est = buf[layout.est_offset:layout.full_bytes].view(np.float64)
        self.text = buf[HEADER_BYTES:HEADER_BYTES + ERROR_TEXT_BYTES]

    def write_error(self, round_: int, text: str) -> int:
        data = text.encode("utf-8", "replace")[:ERROR_TEXT_BYTES]
        self.text[:len(data)] = np.frombuffer(data, dtype=np.uint8)
        self.header[H_ROUND] = round_
        self.header[H_STATUS] = ERROR
        self.header[H_TEXT] = len(data)
        self.header[H_PID] = os.getpid()
        return HEADER_BYTES + len(data)

    def error_text(self) -> str:
        k = int(min(max(self.header[H_TEXT], 0), ERROR_TEXT_BYTES))
        return bytes(self.text[:k]).decode("utf-8", "replace")


class DownlinkView:
    def __init__(self, buf: np.ndarray, layout: Layout):
        self.buf = buf
        self.header = buf[:HEADER_BYTES].view(np.int64)
        self.payload = buf[HEADER_BYTES:HEADER_BYTES + layout.down_bytes]


# -- lossless packing ------------------------------------------------------------------------


@kernel
def encode_bits(fmt, q, buf, scratch):
    """Pack q into ``buf`` (SIGNS or TERNARY); returns the number of entries the format
    cannot carry (0 when the transport is lossless)."""
    nb = (q.shape[0] + 7) // 8
    bad = 0
    for k in range(q.shape[0]):
        if q[k] != 1.0 and q[k] != -1.0 and (fmt == 0 or q[k] != 0.0):
            bad += 1
    pack_signs_into(q, buf[:nb])  # the +1 plane (all of a SIGNS message)
    if fmt == 1:
        for k in range(q.shape[0]):
            scratch[k] = -q[k]
        pack_signs_into(scratch, buf[nb:2 * nb])  # the -1 plane
    return bad


@kernel
def decode_bits(fmt, buf, out, scratch):
    """out <- the message packed in ``buf`` (SIGNS or TERNARY); the inverse of encode_bits."""
    nb = (out.shape[0] + 7) // 8
    unpack_signs_into(buf[:nb], out)
    if fmt == 1:
        unpack_signs_into(buf[nb:2 * nb], scratch)
        for k in range(out.shape[0]):
            out[k] = 0.5 * (out[k] - scratch[k])  # (+1, -1) -> +1, (-1, +1) -> -1, (-1, -1) -> 0


def encode(fmt: int, q: np.ndarray, payload: np.ndarray, scratch: np.ndarray) -> int:
    if fmt == FLOAT:
        payload.view(np.float64)[:] = q
        return 0
    return int(encode_bits(fmt, q, payload, scratch))


def decode(fmt: int, payload: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
    if fmt == FLOAT:
        out[:] = payload.view(np.float64)
    else:
        decode_bits(fmt, payload, out, scratch)
