print("invitelink")
