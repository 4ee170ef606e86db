export { hashPassword, loadUsers, parseHash, parseUsers, userFingerprint, type Role, type User } from './users';
