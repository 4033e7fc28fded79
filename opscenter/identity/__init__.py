"""Who is who, and who acts: organizations and their users with their roles, the acting ``Actor`` (a user, or the
system), and the role guards every route declares. Every other feature of the house builds on it."""
