// Whether the server answers: drives the "server unreachable" banner.
import { apiHooks } from '../api/index.ts';

class Connection {
  /** The last API call or event stream got an answer. */
  reachable = $state(true);
  /** The event stream is open. */
  streaming = $state(false);
}

export const connection = new Connection();

apiHooks.onReachable = (reachable) => {
  connection.reachable = reachable;
};
