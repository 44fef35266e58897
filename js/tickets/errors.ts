// Ticket failures as values: a stable code for logs and console mapping, and the exact spec §8.4 message.

export type TicketErrorCode =
  | 'rejected' // unknown role secret or MAC mismatch
  | 'invalid' // not a token, or claims that do not decode
  | 'role-mismatch'
  | 'subject-mismatch'
  | 'expired'
  | 'over-limits' // scopes or quotas beyond the manifest's limits
  | 'required'; // a worker attach without a ticket

export class TicketError {
  constructor(
    readonly code: TicketErrorCode,
    readonly message: string,
  ) {}
  toString(): string {
    return this.message;
  }
}

export const ticketRejected = (): TicketError => new TicketError('rejected', 'ticket rejected');
export const ticketInvalid = (detail: string): TicketError => new TicketError('invalid', `ticket invalid: ${detail}`);
export const ticketRoleMismatch = (): TicketError => new TicketError('role-mismatch', 'ticket role mismatch');
export const ticketSubjectMismatch = (): TicketError => new TicketError('subject-mismatch', 'ticket subject mismatch');
export const ticketExpired = (): TicketError => new TicketError('expired', 'ticket expired');
export const ticketRequired = (): TicketError => new TicketError('required', 'ticket required for worker attach');
export const ticketOverLimits = (detail: string): TicketError => new TicketError('over-limits', `ticket invalid: ${detail}`);
