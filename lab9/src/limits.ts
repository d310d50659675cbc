/**
 * Every limit and timeout of the kit, each with the reason for its value.
 * Protocol code, storage and transfers import from here; tests override through options,
 * never by editing these numbers.
 */

/** Largest piece a swarm may use: big enough for throughput, small enough to buffer per request. */
export const MAX_PIECE_BYTES = 1024 * 1024;

/** Default piece size when seeding: 256 KiB, like BitTorrent's common choice for mid-size files. */
export const DEFAULT_PIECE_BYTES = 256 * 1024;

/** One piece plus its header; a larger length prefix means a hostile or broken peer. */
export const MAX_FRAME_BYTES = MAX_PIECE_BYTES + 4096;

/** Swarm and file IDs are short names; 255 UTF-8 bytes fits any sane name and one length byte. */
export const MAX_ID_BYTES = 255;

/** ERROR messages carry a sentence, not a log file. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

/**
 * Pieces per file: bounds an ANNOUNCE (32 bytes of hash each) below MAX_FRAME_BYTES
 * for a single file: 32,000 pieces × 32 B = 1,000 KiB; 8 GiB at 256 KiB pieces.
 */
export const MAX_PIECES_PER_FILE = 32_000;

/** Requests a downloader keeps outstanding on one connection: hides the round trip on loopback. */
export const DEFAULT_REQUESTS_IN_FLIGHT = 16;

/** How long a downloader waits for one PIECE before asking another peer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** How long a download may make no progress, with no peer able to help, before it fails. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/** How often a stalled download asks the tracker again for peers. */
export const DEFAULT_TRACKER_REFRESH_MS = 1_000;

/** A peer that sends this many pieces that fail their hash is disconnected. */
export const MAX_CORRUPT_PIECES_PER_PEER = 3;

/**
 * Bytes queued on one client socket before the server stops reading its requests:
 * a client that never reads cannot make the server buffer unbounded pieces.
 */
export const MAX_QUEUED_REPLY_BYTES = 8 * 1024 * 1024;
