/**
 * Connection.sendAll (protocol/connection.ts): several messages leave as one corked write, so a
 * downloader topping up its window of GET_PIECE requests costs one syscall, not one per request.
 * The stream underneath records every write call it receives.
 */
import { Duplex } from 'node:stream';
import { Connection } from '../../src/protocol/connection';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { type Message, MessageType } from '../../src/protocol/message-types';

/** A Duplex that never produces data and remembers each write call as the chunks it carried. */
class RecordingStream extends Duplex {
  readonly calls: Buffer[][] = [];

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.calls.push([chunk]);
    done();
  }

  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.calls.push(chunks.map(({ chunk }) => chunk));
    done();
  }
}

const requests: Message[] = [0, 1, 2].map((index) => ({
  type: MessageType.GetPiece,
  swarmId: 'labs',
  fileId: 'a.bin',
  index,
}));

describe('Connection.sendAll', () => {
  it('3 GET_PIECEs: leave in one write call and decode in order on the other side', () => {
    const stream = new RecordingStream();
    const connection = new Connection(stream);
    expect(connection.sendAll(requests)).toBe(true);
    expect(stream.calls).toHaveLength(1);
    const frames = new FrameDecoder().push(Buffer.concat(stream.calls[0] ?? []));
    expect(frames.map((frame) => (frame.ok ? frame.message : frame.error))).toEqual(requests);
  });

  it('sends nothing and answers false once the connection is closed', () => {
    const stream = new RecordingStream();
    const connection = new Connection(stream);
    connection.destroy();
    expect(connection.sendAll(requests)).toBe(false);
    expect(stream.calls).toEqual([]);
  });
});
