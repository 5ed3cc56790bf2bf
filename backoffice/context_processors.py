from identity.roles import roles_of


def office(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_citizen:
        return {"office_roles": {}}
    return {"office_roles": {r: True for r in roles_of(user)}}
