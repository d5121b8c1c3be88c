// Package sqlstore is the storage adapter behind every command and query: one implementation over
// database/sql, parameterised by a Dialect that the mysql and sqlite packages provide. It implements
// each store interface the command and query packages declare.
//
// Transactions travel in the context: InTx begins one (or joins the one ctx already carries) and every
// method called with that ctx runs inside it. Errors: stockalert.ErrNotFound, stockalert.ErrConflict and
// stockalert.ErrIdempotencyKeyReused where the method says so; everything else is a wrapped driver error.
//
// Claims with a lease keep concurrent workers apart without holding a transaction open while they talk
// to the outside: ClaimOutbox (relays publishing the outbox; FOR UPDATE SKIP LOCKED on MySQL) and
// ClaimDelivery (the notifier, before it calls Telegram). Outbox messages the broker refuses for good
// are moved to outbox_parked (ParkOutbox, ParkedOutbox, RequeueParked).
package sqlstore
