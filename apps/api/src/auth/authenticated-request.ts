import { IncomingMessage } from 'node:http';
import { User } from '@subscribernest/shared';

/** Who is calling: set by SessionGuard on every non-public route. */
export interface AuthContext {
  user: User;
  sessionId: string;
}

export interface AuthenticatedRequest extends IncomingMessage {
  auth?: AuthContext;
}
