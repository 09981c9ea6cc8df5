"""moto's server as the local stack runs it: moto, with one cost of its SQS emulation removed.

For every message it hands out, moto checks the message against the queue's retention period by
building all of the queue's attributes, three of which count the queue's messages one by one
(visible, in flight, delayed). A receive therefore costs the queue's length per message, and a
deep queue (the broadcast queue takes one message per connection shard for every public note)
slows every receive until the emulator cannot keep up. This reads the retention period itself,
once per message: the same comparison, the same outcome, without the counting.

Run by local/src/moto.rs with the venv's Python, with moto_server's arguments.
"""

import sys

from moto.core.utils import unix_time
from moto.server import main
from moto.sqs.models import SQSBackend


def _within_retention_period(self, queue_name, message):
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)
    return retention_seconds + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = _within_retention_period

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
